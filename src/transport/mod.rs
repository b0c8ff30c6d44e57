//! How a client reaches the panel: one small trait, reqwest by default.
//!
//! A [`Transport`] posts bytes to a URL with headers, within a time and size
//! limit, and answers the status, headers and body, or a [`PostError`] that
//! says whether request bytes may have left this machine. Everything SOAP
//! (envelopes, credentials, faults, retries, failover) stays in the client, so
//! a transport is small to write and easy to wrap:
//!
//! - [`ReqwestTransport`] (feature `reqwest`, on by default) is the default;
//! - [`MemoryTransport`] answers from a function, for tests without a network;
//! - your own: logging, metrics, a proxy, another HTTP stack.
//!
//! ```
//! use payamak::transport::{BoxFuture, HttpRequest, HttpResponse, PostError, Transport};
//!
//! /// Counts the requests another transport makes.
//! #[derive(Debug)]
//! struct Counted<T> {
//!     inner: T,
//!     count: std::sync::atomic::AtomicUsize,
//! }
//!
//! impl<T: Transport> Transport for Counted<T> {
//!     fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
//!         self.count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!         self.inner.post(request)
//!     }
//! }
//! ```
//!
//! A transport must not follow redirects: a followed 307/308 would carry the
//! request, password included, to another host. It reports a redirect it
//! cannot avoid following as [`PostErrorKind::Redirected`].

mod memory;
#[cfg(feature = "reqwest")]
mod reqwest;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "reqwest")]
pub use self::reqwest::ReqwestTransport;
pub use memory::{MemoryTransport, RecordedRequest};

/// A boxed future, as [`Transport::post`] returns (the trait stays object safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An error from below a transport (I/O, TLS, the HTTP stack).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Posts requests and reads their answers.
pub trait Transport: fmt::Debug + Send + Sync + 'static {
    /// Posts `request` and reads the whole answer, within `request.timeout` and
    /// `request.max_response_bytes`.
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
        (**self).post(request)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
        (**self).post(request)
    }
}

/// One HTTP POST.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpRequest<'a> {
    /// The endpoint's full URL.
    pub url: &'a str,
    /// Header names and values (`Content-Type`, and `SOAPAction` for SOAP 1.1).
    pub headers: Vec<(&'static str, String)>,
    /// The body: a SOAP envelope, credentials included; never log it as it is.
    pub body: &'a [u8],
    /// How long the whole exchange may take.
    pub timeout: Duration,
    /// The largest answer body to read; a larger one is [`PostErrorKind::TooLarge`].
    pub max_response_bytes: usize,
    /// Whether the request may reach the server twice. When it may not (SendSms),
    /// a transport must not send it over an idle pooled connection, which the
    /// server may have closed meanwhile: a failure there cannot tell "never
    /// left" from "may have arrived", and the send would be an unknown outcome.
    pub retry_safe: bool,
}

impl<'a> HttpRequest<'a> {
    /// A POST of `body` to `url`, with no headers, a 30 s timeout, a 32 MiB
    /// answer limit, and not safe to repeat.
    pub fn new(url: &'a str, body: &'a [u8]) -> Self {
        HttpRequest {
            url,
            headers: Vec::new(),
            body,
            timeout: Duration::from_secs(30),
            max_response_bytes: 32 * 1024 * 1024,
            retry_safe: false,
        }
    }

    /// Marks the request safe to repeat (or not).
    #[must_use]
    pub fn retry_safe(mut self, retry_safe: bool) -> Self {
        self.retry_safe = retry_safe;
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sets the time limit of the exchange.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the largest answer body to read.
    #[must_use]
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The first value of the header `name` (case-insensitively).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(self.headers.iter().map(|(key, value)| (*key, value.as_str())), name)
    }
}

/// The answer to a POST.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names and values, as received (values that are not text are left out).
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// An answer with `status` and `body`, and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse { status, headers: Vec::new(), body: body.into() }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first value of the header `name` (case-insensitively).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(self.headers.iter().map(|(key, value)| (key.as_str(), value.as_str())), name)
    }
}

fn find_header<'h>(mut headers: impl Iterator<Item = (&'h str, &'h str)>, name: &str) -> Option<&'h str> {
    headers.find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// Why a transport has no answer to give.
#[derive(Debug)]
pub struct PostError {
    kind: PostErrorKind,
    request_may_have_been_sent: bool,
    source: Option<BoxError>,
}

/// What kind of [`PostError`] it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PostErrorKind {
    /// No connection could be made (DNS, refused, TLS handshake, connect timeout).
    Connect,
    /// The time limit ran out after the connection was made.
    Timeout,
    /// The connection failed after it was made (reset, closed early).
    Io,
    /// The request could not be built (an invalid URL or header).
    Request,
    /// The answer's body is larger than the limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The HTTP stack followed a redirect (it should not: the request was not processed where it was sent).
    Redirected {
        /// The status of the answer at the end of the redirects.
        status: u16,
        /// Where it was redirected to, if known.
        location: Option<String>,
    },
}

impl PostError {
    /// No connection could be made: no request byte left this machine.
    pub fn connect(source: impl Into<BoxError>) -> Self {
        PostError { kind: PostErrorKind::Connect, request_may_have_been_sent: false, source: Some(source.into()) }
    }

    /// The time limit ran out; `request_may_have_been_sent` is false only when
    /// the transport knows that no byte of the request was written.
    pub fn timeout(request_may_have_been_sent: bool, source: impl Into<BoxError>) -> Self {
        PostError { kind: PostErrorKind::Timeout, request_may_have_been_sent, source: Some(source.into()) }
    }

    /// The connection failed; `request_may_have_been_sent` is false only when
    /// the transport knows that no byte of the request was written (for
    /// example, a pooled connection found closed before writing).
    pub fn io(request_may_have_been_sent: bool, source: impl Into<BoxError>) -> Self {
        PostError { kind: PostErrorKind::Io, request_may_have_been_sent, source: Some(source.into()) }
    }

    /// The request could not be built: nothing was sent.
    pub fn request(source: impl Into<BoxError>) -> Self {
        PostError { kind: PostErrorKind::Request, request_may_have_been_sent: false, source: Some(source.into()) }
    }

    /// The answer's body exceeded `limit` bytes (the request was sent and answered).
    pub fn too_large(limit: usize) -> Self {
        PostError { kind: PostErrorKind::TooLarge { limit }, request_may_have_been_sent: true, source: None }
    }

    /// A redirect to `location` was followed, ending in an answer with `status`.
    pub fn redirected(status: u16, location: Option<String>) -> Self {
        PostError {
            kind: PostErrorKind::Redirected { status, location },
            request_may_have_been_sent: true,
            source: None,
        }
    }

    /// What kind of error it is.
    pub fn kind(&self) -> &PostErrorKind {
        &self.kind
    }

    /// Whether bytes of the request may have reached the server.
    pub fn request_may_have_been_sent(&self) -> bool {
        self.request_may_have_been_sent
    }

    /// The underlying error.
    pub fn into_source(self) -> Option<BoxError> {
        self.source
    }
}

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PostErrorKind::Connect => f.write_str("could not connect"),
            PostErrorKind::Timeout => f.write_str("timed out"),
            PostErrorKind::Io => f.write_str("the connection failed"),
            PostErrorKind::Request => f.write_str("could not build the request"),
            PostErrorKind::TooLarge { limit } => write!(f, "the answer is larger than the {limit}-byte limit"),
            PostErrorKind::Redirected { location, .. } => {
                write!(f, "redirected to {}", location.as_deref().unwrap_or("an unnamed location"))
            }
        }
    }
}

impl std::error::Error for PostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_case_insensitively() {
        let request = HttpRequest::new("http://h/", b"x").header("SOAPAction", "\"a\"");
        assert_eq!(request.header_value("soapaction"), Some("\"a\""));
        let response = HttpResponse::new(200, "x").header("Content-Type", "text/xml");
        assert_eq!(response.header_value("content-type"), Some("text/xml"));
        assert_eq!(response.header_value("location"), None);
    }

    #[test]
    fn only_a_connect_or_request_error_is_known_unsent_by_default() {
        let io = || std::io::Error::other("x");
        assert!(!PostError::connect(io()).request_may_have_been_sent());
        assert!(!PostError::request(io()).request_may_have_been_sent());
        assert!(PostError::io(true, io()).request_may_have_been_sent());
        assert!(!PostError::io(false, io()).request_may_have_been_sent());
        assert!(PostError::too_large(10).request_may_have_been_sent());
    }
}
