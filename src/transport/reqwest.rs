//! The default transport: reqwest (rustls), never following redirects.

use std::time::Duration;

use super::{BoxFuture, HttpRequest, HttpResponse, PostError, Transport};

/// Shorter than any server's keep-alive, so that a send rarely meets a connection the server already closed.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// Posts with a [`reqwest::Client`].
///
/// [`ReqwestTransport::new`] makes the clients the way the panel needs them (a
/// connect timeout, no redirects, and a fresh connection for each request that
/// is not safe to repeat); [`ReqwestTransport::with_client`] takes one you
/// configured (proxy, TLS roots, pool).
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    /// For requests safe to repeat: pooled connections.
    pooled: reqwest::Client,
    /// For the others (SendSms): a new connection each time. A pooled
    /// connection may have been closed by the server (an IIS recycle, a proxy)
    /// after its last answer; a send written to it fails in a way that cannot
    /// tell "never left" from "may have arrived".
    fresh: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport whose connections time out after `connect_timeout`, that
    /// never follows redirects and sends `user_agent`.
    pub fn new(connect_timeout: Duration, user_agent: &str) -> Result<Self, reqwest::Error> {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(connect_timeout)
                // A followed 307/308 would post the request, password included, to another URL.
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(user_agent)
        };
        let pooled = builder().pool_idle_timeout(POOL_IDLE_TIMEOUT).build()?;
        let fresh = builder().pool_max_idle_per_host(0).build()?;
        Ok(ReqwestTransport { pooled, fresh })
    }

    /// A transport over a client you configured. Give it a connect timeout, so
    /// that a dead host is a connect error (which a send may fail over from)
    /// rather than a request timeout, and `reqwest::redirect::Policy::none()`:
    /// a redirect it follows is refused, since it could carry the request and
    /// the password to another host. It is used for every request; give it
    /// `pool_max_idle_per_host(0)` unless a send that meets a connection the
    /// server closed may be reported as an unknown outcome.
    pub fn with_client(client: reqwest::Client) -> Self {
        ReqwestTransport { pooled: client.clone(), fresh: client }
    }

    async fn exchange(&self, request: HttpRequest<'_>) -> Result<HttpResponse, PostError> {
        let client = if request.retry_safe { &self.pooled } else { &self.fresh };
        let mut builder = client.post(request.url).timeout(request.timeout).body(request.body.to_vec());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        let mut response = builder.send().await.map_err(classify)?;
        if response.url().as_str() != request.url && !response.status().is_redirection() {
            // A caller-supplied client followed a redirect.
            return Err(PostError::redirected(response.status().as_u16(), Some(response.url().to_string())));
        }
        let limit = request.max_response_bytes;
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(PostError::too_large(limit));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(PostError::too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body })
    }
}

impl Transport for ReqwestTransport {
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
        Box::pin(self.exchange(request))
    }
}

/// Sorts a reqwest error by whether the request may have left this machine.
fn classify(error: reqwest::Error) -> PostError {
    // The URL can hold nothing secret (base URLs with user info are refused), but keep errors short.
    let error = error.without_url();
    if error.is_connect() {
        // Includes a connect timeout: no request byte was written.
        PostError::connect(error)
    } else if error.is_timeout() {
        PostError::timeout(true, error)
    } else if error.is_builder() {
        PostError::request(error)
    } else {
        PostError::io(true, error)
    }
}
