//! The async client: transport, credentials, retries and failover.

pub(crate) mod api;
mod builder;
mod exchange;
mod recipient_lists;
mod redact;
mod retry;

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument as _;

pub use builder::ClientBuilder;
pub use retry::RetryPolicy;

use crate::auth::{self, CredentialSource, Shown};
use crate::error::{Error, InputError, OutcomeUnknown};
use crate::operation::XmlRequest;
use crate::soap::{encode_request, SoapVersion};
use crate::transport::Transport;
use exchange::Exchange;
use redact::Secret;
use retry::Decision;

/// An async client of the panel's two services.
///
/// Cheap to clone (the state is shared) and safe to use from many tasks at once.
///
/// ```no_run
/// # async fn demo() -> Result<(), payamak::Error> {
/// let client = payamak::Client::builder()
///     .base_url("https://panel.example.com/post/")
///     .credentials("user", "password")
///     .build()?;
/// let credit = client.credit().await?;
/// println!("credit: {credit}");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Box<dyn Transport>,
    base_urls: Vec<url::Url>,
    credentials: Box<dyn CredentialSource>,
    version: SoapVersion,
    retry: RetryPolicy,
    timeout: std::time::Duration,
    max_response_bytes: usize,
    recipient_lists: recipient_lists::RecipientLists,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base_urls: Vec<&str> = self.inner.base_urls.iter().map(url::Url::as_str).collect();
        f.debug_struct("Client")
            .field("base_urls", &base_urls)
            .field("credentials", &self.inner.credentials)
            .field("soap_version", &self.inner.version)
            .field("retry", &self.inner.retry)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder; at least one base URL and the credentials are required.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// The SOAP version this client speaks.
    pub fn soap_version(&self) -> SoapVersion {
        self.inner.version
    }

    /// The user name of the credentials the next call sends.
    pub fn username(&self) -> String {
        self.inner.credentials.credentials().username().to_owned()
    }

    /// The base URLs, in failover order.
    pub fn base_urls(&self) -> impl Iterator<Item = &str> {
        self.inner.base_urls.iter().map(url::Url::as_str)
    }

    /// Calls any generated operation and returns its raw response.
    ///
    /// Credentials are added where the operation declares them. Retry-safe
    /// operations are retried per the [`RetryPolicy`], moving to the next base
    /// URL each time; other operations only move on when no connection could
    /// be made, and otherwise fail with [`Error::OutcomeUnknown`].
    pub async fn call<R: XmlRequest>(&self, request: &R) -> Result<R::Response, Error> {
        self.call_recorded(request, |_| None).await
    }

    /// [`Client::call`], recording the result code `result_code` finds in the response on the call's span.
    pub(crate) async fn call_recorded<R: XmlRequest>(
        &self,
        request: &R,
        result_code: fn(&R::Response) -> Option<i32>,
    ) -> Result<R::Response, Error> {
        let operation = R::OPERATION;
        let span = tracing::info_span!(
            "payamak.call",
            operation = operation.name,
            service = operation.service.name,
            soap_version = %self.inner.version,
            endpoint = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            result_code = tracing::field::Empty,
        );
        async {
            let started = Instant::now();
            let result = self.call_with_retries(request).await;
            let span = tracing::Span::current();
            span.record("duration_ms", started.elapsed().as_millis() as u64);
            match &result {
                Ok(response) => {
                    if let Some(code) = result_code(response) {
                        span.record("result_code", code);
                    }
                    tracing::debug!("call succeeded");
                }
                Err(error) => tracing::warn!(%error, "call failed"),
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn call_with_retries<R: XmlRequest>(&self, request: &R) -> Result<R::Response, Error> {
        let inner = &*self.inner;
        let operation = R::OPERATION;
        let action = inner
            .version
            .action(operation)
            .ok_or(InputError::UnsupportedVersion { operation: operation.name, version: inner.version })?;
        let encoded = encode_request(request, inner.version).map_err(InputError::from)?;
        let credentials = inner.credentials.credentials();
        if tracing::enabled!(tracing::Level::TRACE) {
            let redacted = auth::fill(encoded.clone(), &credentials, Shown::Redacted);
            tracing::trace!(envelope = %redacted.unwrap_or_default(), "request");
        }
        let body = auth::fill(encoded, &credentials, Shown::Sent)?;
        let secret = Secret::new(credentials.password());
        let exchange = Exchange {
            secret: &secret,
            transport: &*inner.transport,
            operation,
            version: inner.version,
            action,
            timeout: inner.timeout,
            max_response_bytes: inner.max_response_bytes,
        };
        let mut attempt = 0u32;
        loop {
            let base = &inner.base_urls[attempt as usize % inner.base_urls.len()];
            attempt += 1;
            let endpoint = base.join(operation.service.endpoint).map_err(|error| {
                InputError::Invalid(format!("cannot join {base} and {}: {error}", operation.service.endpoint))
            })?;
            tracing::Span::current().record("endpoint", endpoint.as_str());
            tracing::Span::current().record("attempts", attempt);
            let error = match exchange.attempt::<R>(&endpoint, body.as_bytes()).await {
                Ok(response) => return Ok(response),
                Err(error) => secret.scrub_error(error),
            };
            match retry::decide(operation, &error, attempt, inner.base_urls.len(), &inner.retry) {
                Decision::Retry(pause) => {
                    tracing::info!(%error, attempt, "trying again");
                    tokio::time::sleep(pause).await;
                }
                Decision::Fail => return Err(error),
                Decision::FailOutcomeUnknown => {
                    return Err(OutcomeUnknown { operation: operation.name, cause: Box::new(error) }.into())
                }
            }
        }
    }
}
