//! One HTTP exchange: post an envelope, read the reply within limits, decode it.

use super::Inner;
use crate::error::{Error, ResponseError, ResponseErrorKind, TransportError, TransportErrorKind};
use crate::operation::{OperationMeta, XmlRequest};
use crate::soap::{Envelope, EnvelopeError, SoapVersion};
use crate::xml::DecodeError;

const EXCERPT_CHARS: usize = 200;

/// A reply as received.
pub(super) struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

pub(super) async fn post(
    inner: &Inner,
    operation: &'static OperationMeta,
    endpoint: &url::Url,
    action: &str,
    body: &str,
) -> Result<Reply, Error> {
    let transport_error = |error: reqwest::Error| transport_error(operation, endpoint, error);
    let mut request = inner
        .http
        .post(endpoint.clone())
        .timeout(inner.timeout)
        .header(reqwest::header::CONTENT_TYPE, inner.version.content_type(action))
        .body(body.to_owned());
    if inner.version == SoapVersion::V11 {
        request = request.header("SOAPAction", format!("\"{action}\""));
    }
    let mut response = request.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    if response.status().is_redirection() || response.url() != endpoint {
        // Not followed (a caller-supplied client may follow them: its reply is refused too).
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .or_else(|| (response.url() != endpoint).then(|| response.url().to_string()));
        return Err(response_error(operation, endpoint, ResponseErrorKind::Redirected { status, location }));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let limit = inner.max_response_bytes;
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(response_error(operation, endpoint, ResponseErrorKind::TooLarge { limit }));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(response_error(operation, endpoint, ResponseErrorKind::TooLarge { limit }));
        }
        body.extend_from_slice(&chunk);
    }
    tracing::trace!(status, content_type, body = %String::from_utf8_lossy(&body), "reply");
    Ok(Reply { status, content_type, body })
}

fn transport_error(operation: &'static OperationMeta, endpoint: &url::Url, error: reqwest::Error) -> Error {
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_builder() {
        TransportErrorKind::Request
    } else {
        TransportErrorKind::Io
    };
    // A connect error (including a connect timeout) means no request byte left this machine.
    let request_may_have_been_sent = !matches!(kind, TransportErrorKind::Connect | TransportErrorKind::Request);
    let error = error.without_url();
    TransportError {
        operation: operation.name,
        endpoint: endpoint.to_string(),
        kind,
        request_may_have_been_sent,
        source: Box::new(error),
    }
    .into()
}

fn response_error(operation: &'static OperationMeta, endpoint: &url::Url, kind: ResponseErrorKind) -> Error {
    ResponseError { operation: operation.name, endpoint: endpoint.to_string(), kind }.into()
}

/// Decodes a reply: a fault wins over the HTTP status, then the status, then the payload.
pub(super) fn decode<R: XmlRequest>(
    operation: &'static OperationMeta,
    endpoint: &url::Url,
    reply: &Reply,
) -> Result<R::Response, Error> {
    let fail = |kind| Err(response_error(operation, endpoint, kind));
    let success = (200..300).contains(&reply.status);
    let text = match std::str::from_utf8(&reply.body) {
        Ok(text) => text,
        Err(error) if success => {
            let message = format!("the body is not UTF-8: {error}");
            return fail(ResponseErrorKind::Undecodable(DecodeError::malformed(message)));
        }
        Err(_) => return fail(http_status(reply)),
    };
    match Envelope::parse(text) {
        Ok(envelope) => match (envelope.decode_response::<R>(), success) {
            (Err(EnvelopeError::Fault(fault)), _) => fail(ResponseErrorKind::Fault(fault)),
            (Ok(response), true) => Ok(response),
            (_, false) => fail(http_status(reply)),
            (Err(EnvelopeError::Decode(error)), true) => fail(ResponseErrorKind::Undecodable(error)),
        },
        Err(_) if !success => fail(http_status(reply)),
        Err(_) if !looks_like_xml(&reply.content_type) => fail(ResponseErrorKind::UnexpectedContentType {
            content_type: reply.content_type.clone(),
            body_excerpt: excerpt(text),
        }),
        Err(error) => fail(ResponseErrorKind::Undecodable(error)),
    }
}

fn http_status(reply: &Reply) -> ResponseErrorKind {
    ResponseErrorKind::HttpStatus { status: reply.status, body_excerpt: excerpt(&String::from_utf8_lossy(&reply.body)) }
}

fn looks_like_xml(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media_type.is_empty() || media_type.ends_with("/xml") || media_type.ends_with("+xml")
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
