//! One exchange of a call: post the envelope through the transport, decode the reply.

use crate::error::{Error, ResponseError, ResponseErrorKind, TransportError, TransportErrorKind};
use crate::operation::{OperationMeta, XmlRequest};
use crate::soap::{read_response, EnvelopeError, SoapVersion};
use crate::transport::{HttpRequest, HttpResponse, PostError, PostErrorKind, Transport};
use crate::xml::DecodeError;

const EXCERPT_CHARS: usize = 200;

/// What an attempt needs besides the request.
pub(super) struct Exchange<'a> {
    /// Scrubbed from the reply before it is logged.
    pub(super) secret: &'a super::redact::Secret,
    pub(super) transport: &'a dyn Transport,
    pub(super) operation: &'static OperationMeta,
    pub(super) version: SoapVersion,
    pub(super) action: &'a str,
    pub(super) timeout: std::time::Duration,
    pub(super) max_response_bytes: usize,
}

impl Exchange<'_> {
    /// Posts `body` to `endpoint` and decodes the reply as `R`'s response.
    pub(super) async fn attempt<R: XmlRequest>(&self, endpoint: &url::Url, body: &[u8]) -> Result<R::Response, Error> {
        let mut request = HttpRequest::new(endpoint.as_str(), body)
            .timeout(self.timeout)
            .max_response_bytes(self.max_response_bytes)
            .retry_safe(self.operation.retry_safe)
            .header("Content-Type", self.version.content_type(self.action));
        if self.version == SoapVersion::V11 {
            request = request.header("SOAPAction", format!("\"{}\"", self.action));
        }
        let reply = self.transport.post(request).await.map_err(|error| self.failed(endpoint, error))?;
        if tracing::enabled!(tracing::Level::TRACE) {
            tracing::trace!(
                status = reply.status,
                content_type = reply.header_value("content-type").unwrap_or(""),
                body = %self.secret.scrubbed(&String::from_utf8_lossy(&reply.body)),
                "reply"
            );
        }
        decode::<R>(self.operation, endpoint, &reply, self.max_response_bytes)
    }

    fn failed(&self, endpoint: &url::Url, error: PostError) -> Error {
        let operation = self.operation.name;
        let endpoint = endpoint.to_string();
        let kind = match error.kind() {
            PostErrorKind::TooLarge { limit } => {
                return ResponseError { operation, endpoint, kind: ResponseErrorKind::TooLarge { limit: *limit } }
                    .into()
            }
            PostErrorKind::Redirected { status, location } => {
                let kind = ResponseErrorKind::Redirected { status: *status, location: location.clone() };
                return ResponseError { operation, endpoint, kind }.into();
            }
            PostErrorKind::Connect => TransportErrorKind::Connect,
            PostErrorKind::Timeout => TransportErrorKind::Timeout,
            PostErrorKind::Request => TransportErrorKind::Request,
            PostErrorKind::Io => TransportErrorKind::Io,
        };
        let request_may_have_been_sent = error.request_may_have_been_sent();
        let source = error.into_source().unwrap_or_else(|| Box::new(std::io::Error::other("no cause given")));
        TransportError { operation, endpoint, kind, request_may_have_been_sent, source }.into()
    }
}

fn response_error(operation: &'static OperationMeta, endpoint: &url::Url, kind: ResponseErrorKind) -> Error {
    ResponseError { operation: operation.name, endpoint: endpoint.to_string(), kind }.into()
}

/// Decodes a reply: a redirect is refused, then a fault wins over the HTTP status, then the status, then the payload.
pub(super) fn decode<R: XmlRequest>(
    operation: &'static OperationMeta,
    endpoint: &url::Url,
    reply: &HttpResponse,
    byte_limit: usize,
) -> Result<R::Response, Error> {
    let fail = |kind| Err(response_error(operation, endpoint, kind));
    if (300..400).contains(&reply.status) {
        let location = reply.header_value("location").map(str::to_owned);
        return fail(ResponseErrorKind::Redirected { status: reply.status, location });
    }
    let success = (200..300).contains(&reply.status);
    // A one-way operation is done once the server accepted the request.
    if let Some(accepted) = R::no_reply() {
        if success && reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(accepted);
        }
    }
    let text = match std::str::from_utf8(&reply.body) {
        Ok(text) => text,
        Err(error) if success => {
            let message = format!("the body is not UTF-8: {error}");
            return fail(ResponseErrorKind::Undecodable(DecodeError::malformed(message)));
        }
        Err(_) => return fail(http_status(reply)),
    };
    match read_response::<R>(text, byte_limit) {
        Ok(decoded) => match (decoded, success) {
            (Err(EnvelopeError::Fault(fault)), _) => fail(ResponseErrorKind::Fault(fault)),
            (Ok(response), true) => Ok(response),
            (_, false) => fail(http_status(reply)),
            (Err(EnvelopeError::Decode(error)), true) => fail(ResponseErrorKind::Undecodable(error)),
        },
        Err(_) if !success => fail(http_status(reply)),
        Err(_) if !looks_like_xml(reply.header_value("content-type").unwrap_or("")) => {
            fail(ResponseErrorKind::UnexpectedContentType {
                content_type: reply.header_value("content-type").unwrap_or("").to_owned(),
                body_excerpt: excerpt(text),
            })
        }
        Err(error) => fail(ResponseErrorKind::Undecodable(error)),
    }
}

fn http_status(reply: &HttpResponse) -> ResponseErrorKind {
    ResponseErrorKind::HttpStatus {
        status: reply.status,
        retry_after: reply.header_value("retry-after").map(str::to_owned),
        body_excerpt: excerpt(&String::from_utf8_lossy(&reply.body)),
    }
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
