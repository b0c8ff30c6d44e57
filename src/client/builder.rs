//! Building a [`Client`].

use std::sync::Arc;
use std::time::Duration;

use super::{Client, Inner, RetryPolicy};
use crate::auth::{CredentialSource, Credentials};
use crate::error::{Error, InputError};
use crate::soap::SoapVersion;
use crate::transport::Transport;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Configures a [`Client`].
///
/// Base URLs are the panel's `…/post/` prefix (e.g. `https://panel.example.com/post/`);
/// the service paths `send.asmx` and `IncomingMessages.asmx` are appended. The
/// provider's guide names two hosts and asks to use the domain name first: give
/// them in that order and the client fails over from one to the next.
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    base_urls: Vec<String>,
    credentials: Option<Box<dyn CredentialSource>>,
    version: SoapVersion,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    transport: Option<Box<dyn Transport>>,
    retry: Option<RetryPolicy>,
    max_response_bytes: Option<usize>,
}

impl ClientBuilder {
    pub(crate) fn new() -> Self {
        ClientBuilder::default()
    }

    /// Adds a base URL; call again to add failover URLs, tried in order.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_urls.push(url.into());
        self
    }

    /// Adds several base URLs, in failover order.
    pub fn base_urls<I: IntoIterator<Item = S>, S: Into<String>>(mut self, urls: I) -> Self {
        self.base_urls.extend(urls.into_iter().map(Into::into));
        self
    }

    /// The account's user name and password.
    pub fn credentials(self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credential_source(Credentials::new(username, password))
    }

    /// Where the credentials come from for each request (see [`CredentialSource`]),
    /// instead of a fixed user name and password.
    pub fn credential_source(mut self, source: impl CredentialSource) -> Self {
        self.credentials = Some(Box::new(source));
        self
    }

    /// The SOAP version (1.1 by default).
    pub fn soap_version(mut self, version: SoapVersion) -> Self {
        self.version = version;
        self
    }

    /// How long to wait for a connection (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one attempt may take in all (30 s by default); must exceed the connect timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (`payamak/<version>` by default).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Talks to the panel through `transport` instead of the default reqwest
    /// transport (see [`crate::transport`]). The connect timeout and user agent
    /// set here are then the transport's business; the request timeout and the
    /// response size limit are passed with each request.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Box::new(transport));
        self
    }

    /// Uses a caller-configured reqwest client (its proxy, TLS and pool
    /// settings); see [`ReqwestTransport::with_client`](crate::transport::ReqwestTransport::with_client)
    /// for how to configure it.
    #[cfg(feature = "reqwest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub fn http_client(self, client: reqwest::Client) -> Self {
        self.transport(crate::transport::ReqwestTransport::with_client(client))
    }

    /// The retry policy for retry-safe operations.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The largest response body accepted (32 MiB by default).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        if self.base_urls.is_empty() {
            return Err(InputError::Invalid("no base URL: call ClientBuilder::base_url".to_owned()).into());
        }
        let base_urls = self.base_urls.iter().map(|url| parse_base_url(url)).collect::<Result<Vec<_>, _>>()?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        // A connect that outlasts the whole request would be reported as a request timeout,
        // which a send cannot fail over from: by default it gets at most half the time.
        let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT.min(timeout / 2));
        if self.transport.is_none() && timeout <= connect_timeout {
            return Err(InputError::Invalid(format!(
                "the request timeout ({timeout:?}) must be longer than the connect timeout ({connect_timeout:?})"
            ))
            .into());
        }
        let credentials = self
            .credentials
            .ok_or_else(|| InputError::Invalid("no credentials: call ClientBuilder::credentials".to_owned()))?;
        credentials.credentials().check()?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => default_transport(connect_timeout, self.user_agent)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base_urls,
                credentials,
                version: self.version,
                retry: self.retry.unwrap_or_default(),
                timeout,
                max_response_bytes: self.max_response_bytes.unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                recipient_lists: Default::default(),
            }),
        })
    }
}

/// The reqwest transport, when the crate is built with it.
#[cfg(feature = "reqwest")]
fn default_transport(connect_timeout: Duration, user_agent: Option<String>) -> Result<Box<dyn Transport>, Error> {
    let user_agent = user_agent.unwrap_or_else(|| concat!("payamak/", env!("CARGO_PKG_VERSION")).to_owned());
    let transport = crate::transport::ReqwestTransport::new(connect_timeout, &user_agent)
        .map_err(|error| InputError::Invalid(format!("cannot build the HTTP client: {error}")))?;
    Ok(Box::new(transport))
}

#[cfg(not(feature = "reqwest"))]
fn default_transport(_: Duration, _: Option<String>) -> Result<Box<dyn Transport>, Error> {
    Err(InputError::Invalid(
        "no transport: enable payamak's `reqwest` feature, or call ClientBuilder::transport".to_owned(),
    )
    .into())
}

/// Parses a base URL, making sure it ends with `/` so that service paths append.
fn parse_base_url(text: &str) -> Result<url::Url, Error> {
    // A URL with `@` may hold a password: never echo it.
    let shown = if text.contains('@') { "(not shown)".to_owned() } else { format!("{text:?}") };
    let invalid = |why: String| Error::from(InputError::Invalid(format!("invalid base URL {shown}: {why}")));
    let mut url = url::Url::parse(text.trim()).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL takes no query or fragment".to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // It would show up in errors and logs; the panel takes its credentials in the body.
        return Err(Error::from(InputError::Invalid(
            "a base URL must not contain a user name or password; use ClientBuilder::credentials".to_owned(),
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_get_a_trailing_slash() {
        let url = parse_base_url("http://127.0.0.1:8080/post").unwrap();
        assert_eq!(url.join("send.asmx").unwrap().as_str(), "http://127.0.0.1:8080/post/send.asmx");
    }

    #[test]
    fn bad_base_urls_are_named() {
        for bad in ["ftp://x/post/", "not a url", "http://x/post/?a=1"] {
            let error = parse_base_url(bad).unwrap_err().to_string();
            assert!(error.contains(bad.trim()), "{error}");
        }
    }

    #[test]
    fn base_urls_with_credentials_are_refused_without_echoing_them() {
        let error = parse_base_url("https://user:s3cret@panel.example.com/post/").unwrap_err().to_string();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(error.contains("must not contain a user name or password"), "{error}");
    }

    #[test]
    fn the_request_timeout_must_exceed_the_connect_timeout() {
        let builder = Client::builder().base_url("http://127.0.0.1/post/").credentials("u", "p");
        let error =
            builder.timeout(Duration::from_secs(5)).connect_timeout(Duration::from_secs(5)).build().unwrap_err();
        assert!(error.to_string().contains("must be longer than the connect timeout"), "{error}");
    }

    #[test]
    fn building_needs_a_base_url_and_credentials() {
        assert!(Client::builder().credentials("u", "p").build().is_err());
        assert!(Client::builder().base_url("http://127.0.0.1/post/").build().is_err());
        let complete = Client::builder().base_url("http://127.0.0.1/post/").credentials("u", "p");
        let memory = crate::transport::MemoryTransport::new(|_| Ok(crate::transport::HttpResponse::new(500, "")));
        assert!(complete.transport(memory).build().is_ok());
    }

    #[cfg(feature = "reqwest")]
    #[test]
    fn reqwest_is_the_default_transport() {
        let client = Client::builder().base_url("http://127.0.0.1/post/").credentials("u", "p").build().unwrap();
        assert!(format!("{client:?}").contains("ReqwestTransport"), "{client:?}");
    }

    #[cfg(not(feature = "reqwest"))]
    #[test]
    fn without_reqwest_a_transport_must_be_given() {
        let error = Client::builder().base_url("http://127.0.0.1/post/").credentials("u", "p").build().unwrap_err();
        assert!(error.to_string().contains("`reqwest` feature"), "{error}");
    }
}
