//! The default transport: reqwest (rustls), never following redirects.

use std::sync::{Arc, Mutex};
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
    urls: Arc<ParsedUrls>,
}

/// The URLs posted to, parsed once each: a client posts to its few base URLs
/// over and over, and parsing one costs about as much as decoding a short reply.
#[derive(Debug, Default)]
struct ParsedUrls(Mutex<Vec<(Box<str>, reqwest::Url)>>);

impl ParsedUrls {
    /// More than any failover list: past it, the oldest is forgotten.
    const KEPT: usize = 16;

    /// `url` parsed; `None` when it does not parse (reqwest then reports why).
    fn get(&self, url: &str) -> Option<reqwest::Url> {
        let mut kept = self.0.lock().ok()?;
        if let Some((_, parsed)) = kept.iter().find(|(text, _)| &**text == url) {
            return Some(parsed.clone());
        }
        let parsed = reqwest::Url::parse(url).ok()?;
        if kept.len() == Self::KEPT {
            kept.remove(0);
        }
        kept.push((url.into(), parsed.clone()));
        Some(parsed)
    }
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
        Ok(ReqwestTransport { pooled, fresh, urls: Arc::default() })
    }

    /// A transport over a client you configured. Give it a connect timeout, so
    /// that a dead host is a connect error (which a send may fail over from)
    /// rather than a request timeout, and `reqwest::redirect::Policy::none()`:
    /// a redirect it follows is refused, since it could carry the request and
    /// the password to another host. It is used for every request; give it
    /// `pool_max_idle_per_host(0)` unless a send that meets a connection the
    /// server closed may be reported as an unknown outcome.
    pub fn with_client(client: reqwest::Client) -> Self {
        ReqwestTransport { pooled: client.clone(), fresh: client, urls: Arc::default() }
    }

    async fn exchange(&self, request: HttpRequest<'_>) -> Result<HttpResponse, PostError> {
        let client = if request.retry_safe { &self.pooled } else { &self.fresh };
        let builder = match self.urls.get(request.url) {
            Some(url) => client.post(url),
            None => client.post(request.url),
        };
        let mut builder = builder.timeout(request.timeout).body(request.body.to_vec());
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

#[cfg(test)]
mod tests {
    use super::ParsedUrls;

    #[test]
    fn urls_are_parsed_once_and_the_oldest_forgotten_past_the_limit() {
        let urls = ParsedUrls::default();
        let first = urls.get("http://127.0.0.1:8080/post/send.asmx").expect("parses");
        assert_eq!(first.as_str(), "http://127.0.0.1:8080/post/send.asmx");
        for port in 0..ParsedUrls::KEPT + 3 {
            let url = format!("http://127.0.0.1:{port}/post/send.asmx");
            assert_eq!(urls.get(&url).expect("parses").port(), u16::try_from(port).ok());
        }
        assert_eq!(urls.0.lock().expect("not poisoned").len(), ParsedUrls::KEPT);
        assert_eq!(urls.get("http://127.0.0.1:8080/post/send.asmx"), Some(first));
        assert_eq!(urls.get("not a url"), None);
    }
}
