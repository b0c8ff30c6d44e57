//! The JSON admin endpoints, for tests written in other languages.
//!
//! The requests and answers are documented on the [`emulator`](super) module. Request
//! bodies must be `application/json`: a web page cannot send that to another origin
//! without a CORS preflight, which the emulator never approves (it sends no CORS headers),
//! so a page the tester happens to open cannot inject messages or reset the state.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::app::App;
use super::shared::{blocking, Shared};
use super::snapshot::{IncomingSms, InjectError};

/// One admin endpoint, for listings such as `payamak emulator`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdminEndpoint {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, with `{username}` standing for a user name.
    pub path: &'static str,
    /// The JSON body a `POST` takes, as an example; empty for none.
    pub body: &'static str,
    /// What it does.
    pub summary: &'static str,
}

/// Every admin endpoint (served unless [`EmulatorBuilder::admin_endpoints`](crate::EmulatorBuilder::admin_endpoints)
/// turns them off). `POST` bodies must be sent as `Content-Type: application/json`.
pub const ADMIN_ENDPOINTS: &[AdminEndpoint] = &[
    AdminEndpoint {
        method: "POST",
        path: "/admin/inbox",
        body: r#"{"username": "demo", "from": "09121234567", "to": "5000123456", "body": "سلام"}"#,
        summary: "puts a received message in an account's inbox (`to` optional); answers {\"msg_id\": N}",
    },
    AdminEndpoint { method: "GET", path: "/admin/accounts", body: "", summary: "the user names" },
    AdminEndpoint {
        method: "GET",
        path: "/admin/accounts/{username}",
        body: "",
        summary: "an account's credit, sent messages, deliveries, schedules and inbox",
    },
    AdminEndpoint {
        method: "GET",
        path: "/admin/clock",
        body: "",
        summary: "the emulator's time, and whether it is manual",
    },
    AdminEndpoint {
        method: "POST",
        path: "/admin/clock/advance",
        body: r#"{"seconds": 10.5}"#,
        summary: "moves a manual clock forward (409 with the system clock)",
    },
    AdminEndpoint {
        method: "GET",
        path: "/admin/send-calls",
        body: "",
        summary: "SendSms calls counted per batch: calls, batches, throttled calls, batches sent more than once",
    },
    AdminEndpoint {
        method: "POST",
        path: "/admin/reset",
        body: "{}",
        summary: "back to the configured accounts: sends, deliveries, schedules and injected messages are forgotten",
    },
];

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/admin/inbox", post(inject))
        .route("/admin/accounts", get(accounts))
        .route("/admin/accounts/{username}", get(account))
        .route("/admin/clock", get(clock))
        .route("/admin/clock/advance", post(advance))
        .route("/admin/reset", post(reset))
        .route("/admin/send-calls", get(send_calls))
}

async fn send_calls(State(shared): State<Arc<Shared>>) -> Response {
    json(StatusCode::OK, &shared.pacing.calls())
}

/// The refusal (HTTP 415) of a request body that is not declared as JSON.
fn unless_json(headers: &HeaderMap) -> Option<Response> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match media_type {
        Some(media_type) if media_type.eq_ignore_ascii_case("application/json") => None,
        _ => Some(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "admin requests take a body of Content-Type: application/json",
        )),
    }
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut response = (status, body).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
            response
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    json(status, &serde_json::json!({ "error": message.to_string() }))
}

async fn inject(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = unless_json(&headers) {
        return refused;
    }
    let sms: IncomingSms = match serde_json::from_slice(&body) {
        Ok(sms) => sms,
        Err(cause) => return error(StatusCode::BAD_REQUEST, format_args!("invalid message: {cause}")),
    };
    match blocking(move || shared.with_state(|state, now| state.inject(sms, now))).await {
        Some(Ok(msg_id)) => json(StatusCode::OK, &serde_json::json!({ "msg_id": msg_id })),
        Some(Err(cause @ InjectError::UnknownAccount(_))) => error(StatusCode::NOT_FOUND, cause),
        Some(Err(cause)) => error(StatusCode::BAD_REQUEST, cause),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn accounts(State(shared): State<Arc<Shared>>) -> Response {
    match blocking(move || shared.with_state(|state, _| state.usernames())).await {
        Some(usernames) => json(StatusCode::OK, &usernames),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn account(State(shared): State<Arc<Shared>>, Path(username): Path<String>) -> Response {
    let name = username.clone();
    match blocking(move || shared.with_state(|state, now| state.snapshot(&name, now))).await {
        Some(Some(snapshot)) => json(StatusCode::OK, &snapshot),
        Some(None) => error(StatusCode::NOT_FOUND, format_args!("no account {username:?}")),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn clock_state(shared: &Shared) -> serde_json::Value {
    serde_json::json!({
        "now": shared.clock.now_panel().to_string(),
        "manual": !shared.clock.is_system(),
    })
}

async fn clock(State(shared): State<Arc<Shared>>) -> Response {
    json(StatusCode::OK, &clock_state(&shared))
}

/// The longest step one request may move the clock: each step fires every
/// scheduled occurrence that came due, so an unbounded one could queue millions.
const MAX_ADVANCE: Duration = Duration::from_secs(366 * 24 * 3600);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

async fn advance(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(manual) = shared.clock.as_manual() else {
        return error(StatusCode::CONFLICT, "the emulator runs on the system clock");
    };
    if let Some(refused) = unless_json(&headers) {
        return refused;
    }
    let by = match serde_json::from_slice::<Advance>(&body).map(|advance| Duration::try_from_secs_f64(advance.seconds))
    {
        Ok(Ok(by)) if by <= MAX_ADVANCE => by,
        Ok(Ok(_)) => return error(StatusCode::BAD_REQUEST, "seconds must be at most 366 days (31622400)"),
        Ok(Err(_)) => return error(StatusCode::BAD_REQUEST, "seconds must be a non-negative number"),
        Err(cause) => return error(StatusCode::BAD_REQUEST, format_args!("invalid body: {cause}")),
    };
    // Moving the clock fires the scheduled sends that came due: maybe many.
    let manual = manual.clone();
    match blocking(move || manual.advance(by)).await {
        Some(()) => json(StatusCode::OK, &clock_state(&shared)),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The body `POST /admin/reset` takes: nothing, or an empty object.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reset {}

async fn reset(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = unless_json(&headers) {
        return refused;
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        if let Err(cause) = serde_json::from_slice::<Reset>(&body) {
            return error(StatusCode::BAD_REQUEST, format_args!("invalid body (expected {{}}): {cause}"));
        }
    }
    match blocking(move || {
        shared.pacing.reset();
        shared.with_state(|state, now| {
            state.reset(now);
            state.usernames()
        })
    })
    .await
    {
        Some(usernames) => json(StatusCode::OK, &serde_json::json!({ "accounts": usernames })),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::http::{Method, Request};
    use tower::ServiceExt as _;

    use super::*;
    use crate::{Emulator, IncomingSms};

    struct Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: String,
    }

    async fn request(
        emulator: &Emulator,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Answer {
        let local: SocketAddr = ([127, 0, 0, 1], 8080).into();
        let router = crate::server::router(emulator.shared.clone(), local);
        let mut request = Request::builder().method(method).uri(path).header(header::ORIGIN, "http://evil.example");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request.body(Body::from(body.to_owned())).expect("a request");
        let response = router.oneshot(request).await.expect("an answer");
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.expect("a body");
        Answer { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&body).into_owned() }
    }

    const MESSAGE: &str = r#"{"username": "demo", "from": "09121234567", "body": "x"}"#;

    #[tokio::test]
    async fn bodies_must_be_declared_as_json() {
        let emulator = Emulator::builder().build();
        for content_type in
            [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("multipart/form-data")]
        {
            let answer = request(&emulator, Method::POST, "/admin/inbox", content_type, MESSAGE).await;
            assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
            let answer = request(&emulator, Method::POST, "/admin/reset", content_type, "{}").await;
            assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        }
        assert!(emulator.handle().account_snapshot("demo").expect("demo").inbox.is_empty(), "nothing was injected");
        let answer =
            request(&emulator, Method::POST, "/admin/inbox", Some("Application/JSON; charset=utf-8"), MESSAGE).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }

    #[tokio::test]
    async fn no_cors_header_lets_another_origin_in() {
        let emulator = Emulator::builder().build();
        let preflight = request(&emulator, Method::OPTIONS, "/admin/inbox", None, "").await;
        assert!(!preflight.status.is_success(), "{}", preflight.status);
        let read = request(&emulator, Method::GET, "/admin/accounts", None, "").await;
        assert_eq!(read.status, StatusCode::OK);
        for answer in [preflight, read] {
            assert!(
                answer.headers.keys().all(|name| !name.as_str().starts_with("access-control-")),
                "{:?}",
                answer.headers
            );
        }
    }

    #[tokio::test]
    async fn reset_forgets_what_happened_since_the_start() {
        let emulator = Emulator::builder().build();
        let handle = emulator.handle();
        handle.inject_incoming(IncomingSms::new("demo", "09121234567", "x")).expect("injected");
        assert_eq!(
            request(&emulator, Method::POST, "/admin/reset", Some("application/json"), r#"{"x": 1}"#).await.status,
            StatusCode::BAD_REQUEST
        );
        for body in ["", "{}"] {
            let answer = request(&emulator, Method::POST, "/admin/reset", Some("application/json"), body).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            assert_eq!(answer.body, r#"{"accounts":["demo"]}"#);
        }
        assert!(handle.account_snapshot("demo").expect("demo").inbox.is_empty());
    }

    #[tokio::test]
    async fn every_listed_endpoint_is_served() {
        let emulator = Emulator::builder().build();
        for endpoint in ADMIN_ENDPOINTS {
            let method = Method::from_bytes(endpoint.method.as_bytes()).expect("a method");
            let path = endpoint.path.replace("{username}", "demo");
            let body = endpoint.body.replace(r#""to": "5000123456", "#, "");
            let answer = request(&emulator, method, &path, Some("application/json"), &body).await;
            assert!(
                answer.status.is_success() || answer.status == StatusCode::CONFLICT,
                "{} {path}: {} {}",
                endpoint.method,
                answer.status,
                answer.body
            );
        }
    }
}
