//! The HTTP server: the two `.asmx` endpoints, their WSDL, and the admin endpoints.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tower_http::timeout::RequestBodyTimeoutLayer;

use super::app::App;
use super::dispatch;
use super::limits::ServerLimits;
use super::services::Service;
use super::shared::{ticker, Shared};
use super::{admin, faults, ops, wsdl};

/// The address clients should use for `local`: an unspecified bind address (`0.0.0.0`,
/// `::`) is reached through loopback.
pub(crate) fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port()),
        _ => local,
    }
}

/// The largest request body read (SOAP or admin JSON); a larger one gets HTTP 413. The
/// panel's largest request, a SendSms to 100 recipients of a long text, is a few KiB.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(crate) fn router(shared: Arc<Shared>, local: SocketAddr) -> Router {
    let admin_enabled = shared.admin;
    let body_timeout = shared.limits.body_timeout;
    let mut router = Router::new();
    if admin_enabled {
        router = router.merge(admin::router());
    }
    router
        .fallback(asmx)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .with_state(App { shared, local })
}

/// Serves the emulator on `listener` until `shutdown` completes.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "payamak emulator listening");
    let limits = shared.limits;
    let app = router(shared.clone(), local);
    let ticker = ticker(Arc::downgrade(&shared));
    drop(shared);
    tokio::select! {
        result = accept(listener, app, limits, shutdown) => result,
        () = ticker => Ok(()),
    }
}

/// Accepts connections while fewer than `limits.max_connections` are open (the
/// others wait in the listen queue), and serves each with a header timeout
/// that also closes idle kept-alive connections. On `shutdown`, stops
/// accepting and waits for the requests in flight.
async fn accept(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.map_err(io::Error::other)?,
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Answers are written whole; waiting to coalesce them only delays them.
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "cannot set TCP_NODELAY");
                    }
                    stream
                }
                Err(error) => {
                    // Out of descriptors, a connection reset before it was accepted: wait, go on.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
            drop(permit);
        });
    }
    graceful.shutdown().await;
    Ok(())
}

/// The throttling answer: not carried out, come back after `wait` (whole seconds, at least 1).
fn throttled(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, "Too many SendSms calls for this account.").into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn asmx(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(service) = Service::from_path(uri.path()) else {
        return (StatusCode::NOT_FOUND, "The resource cannot be found.").into_response();
    };
    match method {
        Method::POST => {
            // Each request decoded holds a tree of up to a few MiB: only so many at once.
            let Ok(_permit) = app.shared.requests.acquire().await else {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            let prepared = match dispatch::decode(service, &headers, &body) {
                Ok(prepared) => prepared,
                Err(fault) => return faults::fault_response(&fault),
            };
            drop(body);
            let ops::Prepared { version, send, job } = prepared;
            // A SendSms is paced per account (throttled, slowed) and counted per batch.
            let latency = send.as_ref().map_or(Duration::ZERO, |send| app.shared.pacing.of(&send.username).latency);
            if let Some(send) = &send {
                if let Err(wait) = app.shared.pacing.admit(&send.username) {
                    return throttled(wait);
                }
                if !latency.is_zero() {
                    tokio::time::sleep(latency / 2).await;
                }
            }
            // Decoded above, on the runtime; the state is held only for the job, and the
            // answer is encoded once it is released.
            let response = match app.shared.run(job).await {
                Some(encode) => dispatch::respond(version, encode()),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            };
            if let Some(send) = &send {
                app.shared.pacing.count(send);
                if !latency.is_zero() {
                    tokio::time::sleep(latency - latency / 2).await;
                }
            }
            response
        }
        Method::GET | Method::HEAD if wsdl::is_wsdl_query(uri.query()) => {
            let endpoint = endpoint_url(&headers, app.local, uri.path());
            match wsdl::document(service.meta, &endpoint) {
                Some(document) => with_content_type(document, "text/xml; charset=utf-8"),
                // Every served service has one (a test says so).
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Method::GET | Method::HEAD => with_content_type(help_page(service), "text/html; charset=utf-8"),
        _ => {
            let mut response = (StatusCode::METHOD_NOT_ALLOWED, "The HTTP verb used is not allowed.").into_response();
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
            response
        }
    }
}

/// The URL the request reached, as ASMX writes it into the WSDL: the Host header when it
/// is a plausible authority, the listening address otherwise.
fn endpoint_url(headers: &HeaderMap, local: SocketAddr, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| host.parse::<axum::http::uri::Authority>().is_ok() && !host.contains('@'));
    match host {
        Some(host) => format!("http://{host}{path}"),
        None => format!("http://{}{path}", reachable(local)),
    }
}

fn with_content_type(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn help_page(service: &Service) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{name} Web Service</title></head><body>\n\
         <h1>{name}</h1>\n<p>The following operations are supported (payamak emulator). \
         For a formal definition, please review the <a href=\"?WSDL\">Service Description</a>.</p>\n<ul>\n",
        name = service.name()
    );
    for operation in service.operation_names() {
        page.push_str(&format!("<li>{operation}</li>\n"));
    }
    page.push_str("</ul>\n</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use crate::accounts::{Account, DeliveryTiming};
    use crate::clock::Clock;
    use crate::state::State;

    const GET_CREDIT: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope \
        xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><GetCredit xmlns=\"http://tempuri.org/\">\
        <username>demo</username><password>demo</password></GetCredit></soap:Body></soap:Envelope>";

    #[tokio::test]
    async fn a_request_waiting_for_the_state_does_not_stall_the_server() {
        // The test's runtime is single-threaded: a handler blocking on the state's mutex
        // there would stop every other request until the mutex is free.
        let clock = Clock::system();
        let state = State::new(vec![Account::demo()], DeliveryTiming::default(), &[], clock.now());
        let shared = Shared::new(state, clock, true, crate::limits::ServerLimits::default(), Default::default());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind");
        let local = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(shared.clone(), listener, async {
            let _ = stopped.await;
        }));

        // Another thread holds the state until told, or for 3 s at most.
        let released = Arc::new(AtomicBool::new(false));
        let (locked_tx, locked) = tokio::sync::oneshot::channel::<()>();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let holder = {
            let (shared, released) = (shared.clone(), released.clone());
            std::thread::spawn(move || {
                shared.with_state(|_, _| {
                    let _ = locked_tx.send(());
                    let _ = release_rx.recv_timeout(Duration::from_secs(3));
                    released.store(true, Ordering::SeqCst);
                });
            })
        };
        locked.await.expect("the state is held");

        let http = reqwest::Client::new();
        let post = tokio::spawn(
            http.post(format!("http://{local}/post/send.asmx"))
                .header("Content-Type", "text/xml; charset=utf-8")
                .header("SOAPAction", "\"http://tempuri.org/GetCredit\"")
                .body(GET_CREDIT)
                .send(),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let wsdl = http.get(format!("http://{local}/post/send.asmx?WSDL")).send().await.expect("the WSDL");
        assert_eq!(wsdl.status(), StatusCode::OK);
        assert!(!released.load(Ordering::SeqCst), "the WSDL was only served once the state was free");
        assert!(!post.is_finished(), "the SOAP call waits for the state");

        let _ = release.send(());
        let post = post.await.expect("the call's task").expect("the call is answered");
        assert_eq!(post.status(), StatusCode::OK);
        assert!(post.text().await.expect("a body").contains("<GetCreditResult>10000</GetCreditResult>"));
        holder.join().expect("the holder ends");
        let _ = stop.send(());
        server.await.expect("the server's task").expect("the server");
    }

    #[test]
    fn endpoint_url_prefers_a_sane_host_header() {
        let local: SocketAddr = "0.0.0.0:8080".parse().expect("address");
        let mut headers = HeaderMap::new();
        assert_eq!(endpoint_url(&headers, local, "/post/send.asmx"), "http://127.0.0.1:8080/post/send.asmx");
        headers.insert(header::HOST, HeaderValue::from_static("panel.test:81"));
        assert_eq!(endpoint_url(&headers, local, "/post/Send.asmx"), "http://panel.test:81/post/Send.asmx");
        headers.insert(header::HOST, HeaderValue::from_static("evil\"host"));
        assert_eq!(endpoint_url(&headers, local, "/post/send.asmx"), "http://127.0.0.1:8080/post/send.asmx");
    }
}
