//! SOAP over HTTP as ASMX does it: version from the envelope, operation from the
//! action, faults with HTTP 500.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::ops::{self, Route};
use super::shared::Shared;
use payamak::error::{FaultCode, SoapFault};
use payamak::server::{encode_fault, RequestEnvelope};
use payamak::SoapVersion;

/// The two `.asmx` endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// `post/send.asmx`.
    Send,
    /// `post/IncomingMessages.asmx`.
    IncomingMessages,
}

impl Service {
    /// The service a request path names, matched case-insensitively as IIS does.
    pub(crate) fn from_path(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        if path.eq_ignore_ascii_case("/post/send.asmx") {
            Some(Service::Send)
        } else if path.eq_ignore_ascii_case("/post/incomingmessages.asmx") {
            Some(Service::IncomingMessages)
        } else {
            None
        }
    }

    /// The `wsdl:service` name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Service::Send => "Send",
            Service::IncomingMessages => "IncomingMessages",
        }
    }

    fn routes(self) -> &'static [Route] {
        match self {
            Service::Send => ops::SEND,
            Service::IncomingMessages => ops::INCOMING_MESSAGES,
        }
    }

    /// The operation names, for the service's help page.
    pub(crate) fn operation_names(self) -> impl Iterator<Item = &'static str> {
        self.routes().iter().map(|route| route.meta.name)
    }
}

/// What the Content-Type header says about the request.
struct ContentType {
    /// The version the media type implies (`text/xml` 1.1, `application/soap+xml` 1.2).
    version: Option<SoapVersion>,
    /// The SOAP 1.2 `action` parameter.
    action: Option<String>,
}

impl ContentType {
    fn read(headers: &HeaderMap) -> Self {
        let value = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
        let mut parts = value.split(';');
        let media_type = parts.next().unwrap_or("").trim();
        let version = if media_type.eq_ignore_ascii_case("text/xml") {
            Some(SoapVersion::V11)
        } else if media_type.eq_ignore_ascii_case("application/soap+xml") {
            Some(SoapVersion::V12)
        } else {
            None
        };
        let action = parts.find_map(|parameter| {
            let (name, value) = parameter.split_once('=')?;
            name.trim().eq_ignore_ascii_case("action").then(|| unquote(value).to_owned())
        });
        ContentType { version, action }
    }
}

fn unquote(value: &str) -> &str {
    let value = value.trim();
    value.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(value).trim()
}

/// A fault as ASMX sends it: a `soap:Fault` envelope with HTTP 500.
pub(crate) fn fault_response(fault: &SoapFault) -> Response {
    match encode_fault(fault) {
        Ok(body) => xml_response(StatusCode::INTERNAL_SERVER_ERROR, fault.version, body),
        // A reason XML cannot carry (it came from the request): say so without it.
        Err(_) => {
            let plain = SoapFault::new(fault.version, fault.code.clone(), "Server was unable to process request.");
            match encode_fault(&plain) {
                Ok(body) => xml_response(StatusCode::INTERNAL_SERVER_ERROR, fault.version, body),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
    }
}

fn xml_response(status: StatusCode, version: SoapVersion, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(version.response_content_type()));
    response
}

/// ASMX's wording for a request it could not read.
pub(crate) fn unreadable(version: SoapVersion, detail: impl std::fmt::Display) -> SoapFault {
    SoapFault::new(version, FaultCode::Sender, format!("Server was unable to read request. ---> {detail}"))
}

fn unrecognized_action(version: SoapVersion, action: &str) -> SoapFault {
    SoapFault::new(
        version,
        FaultCode::Sender,
        format!("Server did not recognize the value of HTTP Header SOAPAction: {action}."),
    )
}

/// Handles a POST to a service endpoint.
pub(crate) fn soap_post(shared: &Shared, service: Service, headers: &HeaderMap, body: &[u8]) -> Response {
    let content_type = ContentType::read(headers);
    let transport_version = content_type.version.unwrap_or_default();
    let text = match std::str::from_utf8(body) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(error) => {
            return fault_response(&unreadable(transport_version, format_args!("the body is not UTF-8: {error}")))
        }
    };
    let envelope = match RequestEnvelope::parse(text) {
        Ok(envelope) => envelope,
        Err(error) => return fault_response(&unreadable(transport_version, error)),
    };
    let version = envelope.version();
    if let Some(declared) = content_type.version.filter(|declared| *declared != version) {
        let reason = format!(
            "Possible SOAP version mismatch: Envelope namespace {} was unexpected. Expecting {}.",
            version.envelope_namespace(),
            declared.envelope_namespace()
        );
        return fault_response(&SoapFault::new(declared, FaultCode::VersionMismatch, reason));
    }
    let payload = match envelope.payload() {
        Ok(payload) => payload,
        Err(error) => return fault_response(&unreadable(version, error)),
    };
    let routes = service.routes();
    let route = match version {
        SoapVersion::V11 => {
            let action = headers.get("SOAPAction").and_then(|value| value.to_str().ok()).map(unquote).unwrap_or("");
            routes
                .iter()
                .find(|route| route.meta.soap11_action == Some(action))
                .ok_or_else(|| unrecognized_action(version, action))
        }
        SoapVersion::V12 => match content_type.action.as_deref() {
            Some(action) => routes
                .iter()
                .find(|route| route.meta.soap12_action == Some(action))
                .ok_or_else(|| unrecognized_action(version, action)),
            None => routes
                .iter()
                .find(|route| {
                    (payload.namespace(), payload.local_name()) == (route.meta.namespace, route.meta.request_element)
                })
                .ok_or_else(|| {
                    SoapFault::new(
                        version,
                        FaultCode::Sender,
                        format!("Server did not recognize the request element: {payload}."),
                    )
                }),
        },
    };
    let route = match route {
        Ok(route) => route,
        Err(fault) => return fault_response(&fault),
    };
    match (route.call)(shared, &envelope) {
        Ok(body) => xml_response(StatusCode::OK, version, body),
        Err(fault) => fault_response(&fault),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_case_insensitively() {
        assert_eq!(Service::from_path("/post/Send.asmx"), Some(Service::Send));
        assert_eq!(Service::from_path("/POST/INCOMINGMESSAGES.ASMX"), Some(Service::IncomingMessages));
        assert_eq!(Service::from_path("/post/send.asmx/"), Some(Service::Send));
        assert_eq!(Service::from_path("/send.asmx"), None);
    }

    #[test]
    fn reads_the_content_type() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/Soap+Xml; charset=utf-8; action=\"http://tempuri.org/GetCredit\""),
        );
        let content_type = ContentType::read(&headers);
        assert_eq!(content_type.version, Some(SoapVersion::V12));
        assert_eq!(content_type.action.as_deref(), Some("http://tempuri.org/GetCredit"));
        assert_eq!(ContentType::read(&HeaderMap::new()).version, None);
    }
}
