//! Property: any text either round-trips through encode and decode unchanged,
//! or is refused with an error naming the character (XML 1.0 cannot carry
//! most control characters).

use payamak::codegen::{decode_request, decode_response, encode_request, encode_response};
use payamak::error::InputError;
use payamak::send::{SendSmsRequest, SendSmsResponse};
use payamak::Credentials;
use payamak::SoapVersion;
use proptest::prelude::*;

fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

fn request(text: String, from: String) -> SendSmsRequest {
    SendSmsRequest {
        to: Some(vec![Some("09121234567".into())]),
        from: Some(from),
        text: Some(text),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_round_trips_or_is_refused(text in any::<String>(), from in "\\PC{0,12}", password in any::<String>(), v12 in any::<bool>()) {
        let version = if v12 { SoapVersion::V12 } else { SoapVersion::V11 };
        let original = request(text.clone(), from.clone());
        let encoded = encode_request(&original, version, Some(&Credentials::new("demo", &password)));
        let bad_body = text.chars().chain(from.chars()).find(|&c| forbidden(c));
        let bad_password = password.chars().any(forbidden);
        match (encoded, bad_body, bad_password) {
            (Ok(xml), None, false) => {
                let decoded = decode_request::<SendSmsRequest>(&xml).expect("our own envelope decodes");
                prop_assert_eq!(decoded.request, original);
                prop_assert_eq!(decoded.credentials.password.as_deref(), Some(password.as_str()));
            }
            (Err(InputError::Encode(error)), Some(_), _) => {
                prop_assert!(error.to_string().contains("not allowed in XML 1.0"));
                prop_assert!(forbidden(error.character));
            }
            // The password is refused without showing it, or the character in it.
            (Err(InputError::Invalid(message)), None, true) => {
                prop_assert_eq!(message, "the password contains a character that XML 1.0 cannot carry");
            }
            (result, bad, _) => prop_assert!(false, "unexpected {:?} for forbidden char {:?}", result.map(|_| ()), bad),
        }
    }

    #[test]
    fn any_response_bytes_decode_or_error_cleanly(body in any::<Vec<u8>>()) {
        let text = String::from_utf8_lossy(&body);
        let _ = decode_response::<payamak::send::SendSmsRequest>(&text);
    }

    #[test]
    fn mangled_valid_responses_never_panic(cut in 0usize..400, byte in any::<u8>()) {
        let response = SendSmsResponse { send_sms_result: 1, rec_id: Some(vec![1, 2, 3]), status: Some(vec![0, 1]), ..Default::default() };
        let xml = encode_response::<SendSmsRequest>(&response, SoapVersion::V11).expect("encode");
        let mut bytes = xml.into_bytes();
        let at = cut.min(bytes.len().saturating_sub(1));
        bytes[at] = byte;
        let _ = decode_response::<SendSmsRequest>(&String::from_utf8_lossy(&bytes));
        let _ = decode_response::<SendSmsRequest>(&String::from_utf8_lossy(&bytes[..at]));
    }
}
