//! The entry points fuzzers drive: any bytes, as a reply or as a request, for
//! every operation. They must return, never panic, whatever the input; the
//! fuzz targets in `fuzz/` and a short smoke run in the test suite call them.

use crate::incoming_messages as im;
use crate::operation::XmlRequest;
use crate::send;
use crate::soap::{decode_response, Envelope, EnvelopeError};

/// Decodes `data` as the reply of every operation of both services (and as a fault).
pub fn replies(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(envelope) = Envelope::parse(&text) {
        let _ = envelope.fault();
    }
    reply::<send::GetCreditRequest>(&text);
    reply::<send::GetInboxCountRequest>(&text);
    reply::<send::SendSmsRequest>(&text);
    reply::<send::ScheduleSmsRequest>(&text);
    reply::<send::GetDeliveryRequest>(&text);
    reply::<send::UpdateDeliveryRequest>(&text);
    reply::<im::GetNewMessagesListRequest>(&text);
    reply::<im::GetReceiveSMSIsNotReadListRequest>(&text);
    reply::<im::GetUserNumbersListRequest>(&text);
    reply::<im::UpdateMessagesIsReadRequest>(&text);
}

/// Decodes `text` as the reply of `R` in one streaming pass, and checks that
/// the element index and the generated tree-walking decoders read it alike:
/// the same response, or the same error.
fn reply<R: XmlRequest>(text: &str)
where
    R::Response: std::fmt::Debug,
{
    let streamed = decode_response::<R>(text);
    let indexed =
        Envelope::parse(text).map_err(EnvelopeError::from).and_then(|envelope| envelope.decode_response::<R>());
    // Compared as printed: NaN is not equal to itself.
    let (streamed, indexed) = (format!("{streamed:?}"), format!("{indexed:?}"));
    assert_eq!(streamed, indexed, "the streaming decoder and the index disagree on {text:?}");
}

/// Decodes `data` as a request of every operation, as a server does.
pub fn requests(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(envelope) = Envelope::parse_within(&text, 1024 * 1024) else { return };
    let _ = envelope.payload();
    request::<send::GetCreditRequest>(&envelope);
    request::<send::GetInboxCountRequest>(&envelope);
    request::<send::SendSmsRequest>(&envelope);
    request::<send::ScheduleSmsRequest>(&envelope);
    request::<send::GetDeliveryRequest>(&envelope);
    request::<send::UpdateDeliveryRequest>(&envelope);
    request::<im::GetNewMessagesListRequest>(&envelope);
    request::<im::GetUserNumbersListRequest>(&envelope);
    request::<im::UpdateMessagesIsReadRequest>(&envelope);
    request::<im::UpdateMessagesIsNotReadRequest>(&envelope);
}

fn request<R: XmlRequest>(envelope: &Envelope<'_>) {
    let _ = envelope.decode_request::<R>();
}
