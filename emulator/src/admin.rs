//! The JSON admin endpoints, for tests written in other languages.
//!
//! The requests and answers are documented on the [`emulator`](super) module.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::app::App;
use super::shared::{blocking, Shared};
use super::snapshot::{IncomingSms, InjectError};

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/admin/inbox", post(inject))
        .route("/admin/accounts", get(accounts))
        .route("/admin/accounts/{username}", get(account))
        .route("/admin/clock", get(clock))
        .route("/admin/clock/advance", post(advance))
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

async fn inject(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
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

async fn advance(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Some(manual) = shared.clock.as_manual() else {
        return error(StatusCode::CONFLICT, "the emulator runs on the system clock");
    };
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
