//! Decoding every response shape the panel can send: each yields the
//! documented value or a typed error, never a panic.

use payamak::codegen::{decode_response, EnvelopeError};
use payamak::error::DecodeErrorKind;
use payamak::error::FaultCode;
use payamak::incoming_messages::{self as im, Message};
use payamak::send;

use crate::support::{envelope11, envelope12};

fn messages(payload: &str) -> Result<Option<Vec<Option<Message>>>, EnvelopeError> {
    decode_response::<im::GetNewMessagesListRequest>(&envelope11(payload)).map(|r| r.get_new_messages_list_result)
}

const MESSAGE: &str = "<Message><MsgID>7</MsgID><MsgType>1</MsgType><Body>سلام</Body><SendDate>2024-03-20T08:00:00</SendDate><Sender>09121234567</Sender><Receiver>5000123456</Receiver><Parts>1</Parts><IsRead>false</IsRead></Message>";

fn list(rows: &str) -> String {
    format!(
        r#"<GetNewMessagesListResponse xmlns="http://tempuri.org/"><GetNewMessagesListResult>{rows}</GetNewMessagesListResult></GetNewMessagesListResponse>"#
    )
}

#[test]
fn a_message_row_decodes_every_field() {
    let rows = messages(&list(MESSAGE)).unwrap().unwrap();
    let message = rows[0].as_ref().unwrap();
    assert_eq!((message.msg_id, message.msg_type, message.parts, message.is_read), (7, 1, 1, false));
    assert_eq!(message.body.as_deref(), Some("سلام"));
    assert_eq!(message.send_date.to_string(), "2024-03-20T08:00:00");
    assert_eq!(message.sender.as_deref(), Some("09121234567"));
}

#[test]
fn an_empty_array_is_empty_and_an_absent_one_is_none() {
    assert_eq!(messages(&list("")).unwrap(), Some(vec![]));
    let absent = r#"<GetNewMessagesListResponse xmlns="http://tempuri.org/" />"#;
    assert_eq!(messages(absent).unwrap(), None);
}

#[test]
fn nil_items_are_kept_as_none() {
    let rows = messages(&list(&format!(r#"<Message xsi:nil="true" />{MESSAGE}"#))).unwrap().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].is_none());
    assert!(rows[1].is_some());
}

#[test]
fn absent_optional_elements_are_none() {
    let row = "<Message><MsgID>7</MsgID><MsgType>1</MsgType><SendDate>2024-03-20T08:00:00</SendDate><Parts>1</Parts><IsRead>true</IsRead></Message>";
    let rows = messages(&list(row)).unwrap().unwrap();
    let message = rows[0].as_ref().unwrap();
    assert_eq!((message.body.as_deref(), message.sender.as_deref(), message.receiver.as_deref()), (None, None, None));
}

#[test]
fn unknown_extra_elements_are_ignored() {
    let row = MESSAGE.replace("<Parts>", "<Tariff>12.5</Tariff><Extra><Deep>x</Deep></Extra><Parts>");
    let payload =
        list(&row).replace("</GetNewMessagesListResult>", "</GetNewMessagesListResult><Unexpected>1</Unexpected>");
    let rows = messages(&payload).unwrap().unwrap();
    assert_eq!(rows[0].as_ref().unwrap().msg_id, 7);
}

#[test]
fn prefixes_do_not_matter_only_namespaces() {
    let payload = r#"<t:GetCreditResponse xmlns:t="http://tempuri.org/"><t:GetCreditResult>42</t:GetCreditResult></t:GetCreditResponse>"#;
    let credit = decode_response::<send::GetCreditRequest>(&envelope11(payload)).unwrap();
    assert_eq!(credit.get_credit_result, 42.0);
    let wrong_ns =
        r#"<GetCreditResponse xmlns="http://example.com/"><GetCreditResult>42</GetCreditResult></GetCreditResponse>"#;
    assert!(decode_response::<send::GetCreditRequest>(&envelope11(wrong_ns)).is_err());
}

#[test]
fn a_missing_required_element_is_named_with_its_position() {
    let row = MESSAGE.replace("<MsgID>7</MsgID>", "");
    let Err(EnvelopeError::Decode(error)) = messages(&list(&row)) else { panic!("expected a decode error") };
    assert_eq!(error.kind(), &DecodeErrorKind::MissingElement("MsgID".into()));
    assert!(error.to_string().contains("<MsgID>") && error.to_string().contains("line 1"), "{error}");
}

#[test]
fn an_invalid_value_is_named() {
    let row = MESSAGE.replace("<MsgID>7</MsgID>", "<MsgID>seven</MsgID>");
    let Err(EnvelopeError::Decode(error)) = messages(&list(&row)) else { panic!("expected a decode error") };
    assert_eq!(
        error.to_string().split(" (line").next().unwrap(),
        r#"<MsgID> holds "seven", which is not a valid xs:long"#
    );
}

#[test]
fn send_sms_response_with_rec_ids_and_status_bytes() {
    let payload = r#"<SendSmsResponse xmlns="http://tempuri.org/"><SendSmsResult>1</SendSmsResult><recId><long>1000000001</long><long>1000000002</long></recId><status>AAE=</status></SendSmsResponse>"#;
    for envelope in [envelope11(payload), envelope12(payload)] {
        let response = decode_response::<send::SendSmsRequest>(&envelope).unwrap();
        assert_eq!(response.send_sms_result, 1);
        assert_eq!(response.rec_id, Some(vec![1_000_000_001, 1_000_000_002]));
        assert_eq!(response.status, Some(vec![0, 1]));
    }
}

#[test]
fn faults_in_both_versions() {
    let fault11 = "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>boom</faultstring></soap:Fault>";
    let Err(EnvelopeError::Fault(fault)) = decode_response::<send::GetCreditRequest>(&envelope11(fault11)) else {
        panic!("expected a fault")
    };
    assert_eq!((fault.code, fault.reason.as_str()), (FaultCode::Receiver, "boom"));
    let fault12 = r#"<soap12:Fault><soap12:Code><soap12:Value>soap12:Sender</soap12:Value></soap12:Code><soap12:Reason><soap12:Text xml:lang="en">bad</soap12:Text></soap12:Reason></soap12:Fault>"#;
    let Err(EnvelopeError::Fault(fault)) = decode_response::<send::GetCreditRequest>(&envelope12(fault12)) else {
        panic!("expected a fault")
    };
    assert_eq!((fault.code, fault.reason.as_str()), (FaultCode::Sender, "bad"));
}

#[test]
fn non_envelopes_are_errors() {
    for body in [
        "",
        "<html><body>Error</body></html>",
        "not xml",
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">",
    ] {
        let result = decode_response::<send::GetCreditRequest>(body);
        assert!(matches!(result, Err(EnvelopeError::Decode(_))), "{body:?}: {result:?}");
    }
}

#[test]
fn hostile_structures_are_refused_quickly() {
    use std::time::Instant;
    let nested_namespaces: String = (0..3000).map(|i| format!("<a xmlns:p{i}=\"urn:{i}\">")).collect();
    let many_attributes = format!("<a {}/>", (0..5000).map(|i| format!("a{i}=\"1\"")).collect::<Vec<_>>().join(" "));
    let deep = "<a>".repeat(100_000);
    for body in [nested_namespaces, many_attributes, deep] {
        let started = Instant::now();
        let Err(EnvelopeError::Decode(error)) = decode_response::<send::GetCreditRequest>(&envelope11(&body)) else {
            panic!("expected a refusal")
        };
        assert!(matches!(error.kind(), DecodeErrorKind::LimitExceeded(_)), "{error}");
        assert!(started.elapsed().as_secs_f64() < 1.0, "took {:?}", started.elapsed());
    }
}

#[test]
fn dtds_are_refused() {
    let body = r#"<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>"#;
    assert!(decode_response::<send::GetCreditRequest>(body).is_err());
}

#[test]
fn status_codes_are_typed_with_unknown_kept() {
    let payload = |code: i32| {
        format!(
            r#"<GetDeliveryResponse xmlns="http://tempuri.org/"><GetDeliveryResult>{code}</GetDeliveryResult></GetDeliveryResponse>"#
        )
    };
    let status =
        |code| decode_response::<send::GetDeliveryRequest>(&envelope11(&payload(code))).unwrap().result_status();
    use payamak::status_codes::DeliveryStatus;
    assert_eq!(status(1), DeliveryStatus::Delivered);
    assert!(status(1).is_final() && status(1).is_success());
    assert!(!status(0).is_final());
    assert_eq!(status(77), DeliveryStatus::Unknown(77));
    assert_eq!(status(77).code(), 77);
}
