//! Faults as ASMX sends them: a `soap:Fault` envelope with HTTP 500, worded as ASMX
//! words them.

use std::fmt::Display;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use payamak::error::{FaultCode, SoapFault};
use payamak::server::encode_fault;
use payamak::SoapVersion;

/// A fault to answer with (boxed: it is large, and rare).
pub(crate) type Fault = Box<SoapFault>;

/// ASMX's wording for a request it could not read.
pub(crate) fn unreadable(version: SoapVersion, detail: impl Display) -> SoapFault {
    SoapFault::new(version, FaultCode::Sender, format!("Server was unable to read request. ---> {detail}"))
}

/// A SOAPAction (1.1) or `action` parameter (1.2) naming no operation of the endpoint.
pub(crate) fn unrecognized_action(version: SoapVersion, action: &str) -> SoapFault {
    SoapFault::new(
        version,
        FaultCode::Sender,
        format!("Server did not recognize the value of HTTP Header SOAPAction: {action}."),
    )
}

/// A SOAP 1.2 payload, sent without an action, that is no operation's request element.
pub(crate) fn unrecognized_element(version: SoapVersion, element: impl Display) -> SoapFault {
    SoapFault::new(version, FaultCode::Sender, format!("Server did not recognize the request element: {element}."))
}

/// An envelope whose version contradicts the one the Content-Type declared.
pub(crate) fn version_mismatch(declared: SoapVersion, found: SoapVersion) -> SoapFault {
    let reason = format!(
        "Possible SOAP version mismatch: Envelope namespace {} was unexpected. Expecting {}.",
        found.envelope_namespace(),
        declared.envelope_namespace()
    );
    SoapFault::new(declared, FaultCode::VersionMismatch, reason)
}

/// A request that was read but could not be answered.
pub(crate) fn unprocessable(version: SoapVersion, detail: impl Display) -> SoapFault {
    SoapFault::new(version, FaultCode::Receiver, format!("Server was unable to process request. ---> {detail}"))
}

/// A fault as ASMX sends it: a `soap:Fault` envelope with HTTP 500.
pub(crate) fn fault_response(fault: &SoapFault) -> Response {
    match encode_fault(fault) {
        Ok(body) => soap_response(StatusCode::INTERNAL_SERVER_ERROR, fault.version, body),
        // A reason XML cannot carry (it came from the request): say so without it.
        Err(_) => {
            let plain = SoapFault::new(fault.version, fault.code.clone(), "Server was unable to process request.");
            match encode_fault(&plain) {
                Ok(body) => soap_response(StatusCode::INTERNAL_SERVER_ERROR, fault.version, body),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
    }
}

/// A SOAP envelope (an answer or a fault) with the Content-Type of its version.
pub(crate) fn soap_response(status: StatusCode, version: SoapVersion, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(version.response_content_type()));
    response
}
