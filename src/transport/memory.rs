//! A transport that answers from memory: for tests without a network.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::{BoxFuture, HttpRequest, HttpResponse, PostError, Transport};

type Handler = dyn Fn(&HttpRequest<'_>) -> Result<HttpResponse, PostError> + Send + Sync;

/// Answers every request with a function of it, and records what it was asked.
///
/// ```
/// use payamak::transport::{HttpResponse, MemoryTransport};
///
/// let transport = MemoryTransport::new(|request| {
///     assert_eq!(request.header_value("SOAPAction"), Some("\"http://tempuri.org/GetCredit\""));
///     Ok(HttpResponse::new(200, concat!(
///         r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#,
///         r#"<GetCreditResponse xmlns="http://tempuri.org/"><GetCreditResult>42</GetCreditResult>"#,
///         r#"</GetCreditResponse></soap:Body></soap:Envelope>"#,
///     )).header("Content-Type", "text/xml; charset=utf-8"))
/// });
/// let client = payamak::Client::builder()
///     .base_url("http://panel.test/post/")
///     .credentials("user", "password")
///     .transport(transport.clone())
///     .build()?;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// assert_eq!(client.credit().await?, 42.0);
/// # Ok::<(), payamak::Error>(()) })?;
/// assert_eq!(transport.requests()[0].url, "http://panel.test/post/send.asmx");
/// # Ok::<(), payamak::Error>(())
/// ```
#[derive(Clone)]
pub struct MemoryTransport {
    handler: Arc<Handler>,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

/// A request a [`MemoryTransport`] received.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The URL posted to.
    pub url: String,
    /// The headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body (credentials included).
    pub body: Vec<u8>,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body holds the password: show only its size.
        f.debug_struct("RecordedRequest")
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl MemoryTransport {
    /// A transport that answers each request with `handler(request)`.
    pub fn new(handler: impl Fn(&HttpRequest<'_>) -> Result<HttpResponse, PostError> + Send + Sync + 'static) -> Self {
        MemoryTransport { handler: Arc::new(handler), requests: Arc::default() }
    }

    /// The requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTransport").finish_non_exhaustive()
    }
}

impl Transport for MemoryTransport {
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).push(RecordedRequest {
            url: request.url.to_owned(),
            headers: request.headers.clone(),
            body: request.body.to_vec(),
        });
        let answer = (self.handler)(&request);
        let answer = match answer {
            Ok(response) if response.body.len() > request.max_response_bytes => {
                Err(PostError::too_large(request.max_response_bytes))
            }
            other => other,
        };
        Box::pin(std::future::ready(answer))
    }
}
