//! The emulator without a network: a `payamak` transport that hands each request
//! to the emulator's HTTP handling in this process.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use payamak::transport::{BoxFuture, HttpRequest, HttpResponse, PostError, Transport};
use tower::ServiceExt as _;

use super::server;
use super::shared::Shared;

/// The base URL to give a client that talks to an emulator through its
/// [`EmulatorTransport`] (any host works; this one is reserved never to resolve).
pub const IN_PROCESS_BASE_URL: &str = "http://emulator.invalid/post/";

/// A transport that answers from an emulator in this process: the same routing,
/// SOAP handling, faults and status codes as over HTTP, with no socket.
///
/// ```
/// use payamak_emulator::{Emulator, IN_PROCESS_BASE_URL};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let emulator = Emulator::builder().build();
/// let client = payamak::Client::builder()
///     .base_url(IN_PROCESS_BASE_URL)
///     .credentials("demo", "demo")
///     .transport(emulator.handle().transport())
///     .build()?;
/// assert_eq!(client.credit().await?, 10_000.0);
/// # Ok::<(), payamak::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct EmulatorTransport {
    router: Router,
}

impl std::fmt::Debug for EmulatorTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorTransport").finish_non_exhaustive()
    }
}

impl EmulatorTransport {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        // No listener: WSDL addresses fall back to the Host header's, or this.
        let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        EmulatorTransport { router: server::router(shared, local) }
    }

    async fn exchange(&self, request: HttpRequest<'_>) -> Result<HttpResponse, PostError> {
        let mut builder = axum::http::Request::post(request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        let http = builder.body(Body::from(request.body.to_vec())).map_err(PostError::request)?;
        let answer = async {
            let response = match self.router.clone().oneshot(http).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let status = response.status().as_u16();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
                .collect();
            let limit = request.max_response_bytes;
            let body =
                axum::body::to_bytes(response.into_body(), limit).await.map_err(|_| PostError::too_large(limit))?;
            let reply = headers
                .into_iter()
                .fold(HttpResponse::new(status, body.to_vec()), |reply, (name, value)| reply.header(name, value));
            Ok(reply)
        };
        match tokio::time::timeout(request.timeout, answer).await {
            Ok(result) => result,
            Err(elapsed) => Err(PostError::timeout(true, elapsed)),
        }
    }
}

impl Transport for EmulatorTransport {
    fn post<'a>(&'a self, request: HttpRequest<'a>) -> BoxFuture<'a, Result<HttpResponse, PostError>> {
        Box::pin(self.exchange(request))
    }
}
