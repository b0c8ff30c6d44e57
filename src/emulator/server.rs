//! The HTTP server: the two `.asmx` endpoints, their WSDL, and the admin endpoints.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;

use super::dispatch::{self, Service};
use super::shared::{ticker, Shared};
use super::{admin, wsdl};

/// The router's state.
#[derive(Clone)]
pub(crate) struct App {
    shared: Arc<Shared>,
    local: SocketAddr,
}

impl FromRef<App> for Arc<Shared> {
    fn from_ref(app: &App) -> Self {
        app.shared.clone()
    }
}

/// The address clients should use for `local`: an unspecified bind address (`0.0.0.0`,
/// `::`) is reached through loopback.
pub(crate) fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port()),
        _ => local,
    }
}

fn router(shared: Arc<Shared>, local: SocketAddr) -> Router {
    let admin_enabled = shared.admin;
    let mut router = Router::new();
    if admin_enabled {
        router = router.merge(admin::router());
    }
    router.fallback(asmx).with_state(App { shared, local })
}

/// Serves the emulator on `listener` until `shutdown` completes.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "payamak emulator listening");
    let app = router(shared.clone(), local);
    let ticker = ticker(Arc::downgrade(&shared));
    drop(shared);
    tokio::select! {
        result = axum::serve(listener, app).with_graceful_shutdown(shutdown) => result,
        () = ticker => Ok(()),
    }
}

async fn asmx(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(service) = Service::from_path(uri.path()) else {
        return (StatusCode::NOT_FOUND, "The resource cannot be found.").into_response();
    };
    match method {
        Method::POST => dispatch::soap_post(&app.shared, service, &headers, &body),
        Method::GET | Method::HEAD if wsdl::is_wsdl_query(uri.query()) => {
            let endpoint = endpoint_url(&headers, app.local, uri.path());
            with_content_type(wsdl::document(service, &endpoint), "text/xml; charset=utf-8")
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

fn help_page(service: Service) -> String {
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
