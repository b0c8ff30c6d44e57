//! The entry points fuzzers drive: any bytes, as a reply or as a request, for
//! every operation. They must return, never panic, whatever the input; the
//! fuzz targets in `fuzz/` and a short smoke run in the test suite call them.

use crate::incoming_messages as im;
use crate::operation::XmlRequest;
use crate::send;
use crate::soap::{decode_response, Envelope};

/// Decodes `data` as the reply of every operation of both services (and as a fault).
pub fn replies(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(envelope) = Envelope::parse(&text) {
        let _ = envelope.fault();
    }
    let _ = decode_response::<send::GetCreditRequest>(&text);
    let _ = decode_response::<send::GetInboxCountRequest>(&text);
    let _ = decode_response::<send::SendSmsRequest>(&text);
    let _ = decode_response::<send::ScheduleSmsRequest>(&text);
    let _ = decode_response::<send::GetDeliveryRequest>(&text);
    let _ = decode_response::<send::UpdateDeliveryRequest>(&text);
    let _ = decode_response::<im::GetNewMessagesListRequest>(&text);
    let _ = decode_response::<im::GetReceiveSMSIsNotReadListRequest>(&text);
    let _ = decode_response::<im::GetUserNumbersListRequest>(&text);
    let _ = decode_response::<im::UpdateMessagesIsReadRequest>(&text);
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
