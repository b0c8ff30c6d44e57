//! SOAP over HTTP as ASMX does it: version from the envelope, operation from the
//! action, faults with HTTP 500.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;

use super::faults::Fault;
use super::faults::{
    fault_response, soap_response, unreadable, unrecognized_action, unrecognized_element, version_mismatch,
};
use super::ops::Prepared;
use super::services::Service;
use payamak::server::RequestEnvelope;
use payamak::SoapVersion;

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

/// The answer of a request that was run (see [`decode`]): the response with the envelope's
/// version, or a fault.
pub(crate) fn respond(version: SoapVersion, answer: Result<String, Fault>) -> Response {
    match answer {
        Ok(body) => soap_response(StatusCode::OK, version, body),
        Err(fault) => fault_response(&fault),
    }
}

/// Reads a POST to a service endpoint: finds the operation and decodes its request, ready
/// to run, or the fault that it cannot be routed or read (to answer with [`fault_response`]).
pub(crate) fn decode(service: &Service, headers: &HeaderMap, body: &[u8]) -> Result<Prepared, Fault> {
    let content_type = ContentType::read(headers);
    let transport_version = content_type.version.unwrap_or_default();
    let text = match std::str::from_utf8(body) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(error) => {
            return Err(Box::new(unreadable(transport_version, format_args!("the body is not UTF-8: {error}"))))
        }
    };
    let envelope = match RequestEnvelope::parse_within(text, super::server::MAX_BODY_BYTES) {
        Ok(envelope) => envelope,
        Err(error) => return Err(Box::new(unreadable(transport_version, error))),
    };
    let version = envelope.version();
    if let Some(declared) = content_type.version.filter(|declared| *declared != version) {
        return Err(Box::new(version_mismatch(declared, version)));
    }
    let payload = match envelope.payload() {
        Ok(payload) => payload,
        Err(error) => return Err(Box::new(unreadable(version, error))),
    };
    let mut routes = service.routes();
    let route = match version {
        SoapVersion::V11 => {
            let action = headers.get("SOAPAction").and_then(|value| value.to_str().ok()).map(unquote).unwrap_or("");
            routes
                .find(|route| route.meta.soap11_action == Some(action))
                .ok_or_else(|| unrecognized_action(version, action))
        }
        SoapVersion::V12 => match content_type.action.as_deref() {
            Some(action) => routes
                .find(|route| route.meta.soap12_action == Some(action))
                .ok_or_else(|| unrecognized_action(version, action)),
            None => routes
                .find(|route| {
                    (payload.namespace(), payload.local_name()) == (route.meta.namespace, route.meta.request_element)
                })
                .ok_or_else(|| unrecognized_element(version, payload)),
        },
    };
    let route = route.map_err(Box::new)?;
    (route.prepare)(&envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
