//! The admin API under `/__emulator`: clock, authentication, clients, faults, throttling,
//! request log, reset, and the emulated MVPD login page.

use crate::api::sessions::complete;
use crate::api::Ctx;
use crate::config::ThrottlingConfig;
use crate::errors::{html_response, json_response};
use crate::faults::FaultRule;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Body of `POST /__emulator/clock/advance`.
#[derive(Debug, Deserialize)]
pub struct Advance {
    /// Seconds to advance.
    #[serde(default)]
    pub seconds: f64,
    /// Milliseconds to advance (added to `seconds`).
    #[serde(default)]
    pub ms: i64,
}

/// `GET /__emulator/clock`.
pub async fn clock(ctx: Ctx) -> Response {
    json_response(StatusCode::OK, &json!({ "now": ctx.0.clock.now_ms() }))
}

/// `POST /__emulator/clock/advance`.
pub async fn advance(ctx: Ctx, Json(a): Json<Advance>) -> Response {
    let ms = (a.seconds * 1000.0) as i64 + a.ms;
    if ms < 0 {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "the clock only moves forward"}),
        );
    }
    ctx.0.clock.advance_ms(ms);
    clock(ctx).await
}

/// Body of `PUT /__emulator/clock/skew`.
#[derive(Debug, Deserialize)]
pub struct Skew {
    /// Milliseconds from real time, negative for behind.
    pub ms: i64,
}

/// `PUT /__emulator/clock/skew`: the clock this far from real time, behind or ahead (a device
/// whose clock is off, as the service sees it).
pub async fn skew(ctx: Ctx, Json(s): Json<Skew>) -> Response {
    ctx.0.clock.set_skew_ms(s.ms);
    clock(ctx).await
}

/// Body of `POST /__emulator/sessions/{code}/complete`.
#[derive(Debug, Default, Deserialize)]
pub struct Completion {
    /// Profile attributes (plain values or `{value, state}` objects).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// `POST /__emulator/sessions/{code}/complete`: the user finished logging in.
pub async fn complete_session(
    ctx: Ctx,
    Path(code): Path<String>,
    body: Option<Json<Completion>>,
) -> Response {
    let c = body.map(|Json(c)| c).unwrap_or_default();
    match complete(&ctx.0, &code, &c.attributes) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => json_response(StatusCode::NOT_FOUND, &json!({ "error": e })),
    }
}

/// Body of `POST /__emulator/partners/{partner}/login`.
#[derive(Debug, Deserialize)]
pub struct PartnerLogin {
    /// The `authenticationRequest.request` the app received.
    pub request: String,
    /// Profile attributes (plain values or `{value, state}` objects).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// `POST /__emulator/partners/{partner}/login`: the user logs in with the MVPD inside the
/// partner's framework; answers `{"samlResponse": "<the framework's SAML response text>"}`.
pub async fn partner_login(
    ctx: Ctx,
    Path(partner): Path<String>,
    Json(body): Json<PartnerLogin>,
) -> Response {
    match crate::api::partner::partner_login(&ctx.0, &partner, &body.request, &body.attributes) {
        Ok(text) => json_response(StatusCode::OK, &json!({ "samlResponse": text })),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({ "error": e })),
    }
}

/// `POST /__emulator/clients/{client_id}/revoke`.
pub async fn revoke(ctx: Ctx, Path(id): Path<String>) -> Response {
    if crate::revoke_client(&ctx.0, &id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        json_response(StatusCode::NOT_FOUND, &json!({ "error": "unknown client" }))
    }
}

/// `POST /__emulator/reset`.
pub async fn reset(ctx: Ctx) -> Response {
    ctx.0.reset();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /__emulator/faults`: arms a fault rule.
pub async fn add_fault(ctx: Ctx, Json(rule): Json<FaultRule>) -> Response {
    ctx.0.faults().push(rule);
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /__emulator/faults`.
pub async fn clear_faults(ctx: Ctx) -> Response {
    ctx.0.faults().clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__emulator/requests`: the request log.
pub async fn requests(ctx: Ctx) -> Response {
    let log: Vec<_> = ctx.0.log().iter().cloned().collect();
    json_response(StatusCode::OK, &json!(log))
}

/// `DELETE /__emulator/requests`.
pub async fn clear_requests(ctx: Ctx) -> Response {
    ctx.0.log().clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__emulator/throttling`.
pub async fn throttling(ctx: Ctx) -> Response {
    let t = ctx.0.throttle().config;
    json_response(StatusCode::OK, &json!(t))
}

/// `PUT /__emulator/throttling`.
pub async fn set_throttling(ctx: Ctx, Json(t): Json<ThrottlingConfig>) -> Response {
    if t.requests_per_second <= 0.0 {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "requests_per_second must be positive"}),
        );
    }
    let mut th = ctx.0.throttle();
    th.config = t;
    th.buckets.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__emulator/mvpd/{sp}/{code}/login`: the emulated MVPD login page.
pub async fn login_page(Path((sp, code)): Path<(String, String)>) -> Response {
    let (sp, code) = (escape(&sp), escape(&code));
    html_response(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><html><head><title>MVPD login</title></head><body>\
             <h1>Emulated MVPD login</h1><p>Service provider {sp}, code {code}.</p>\
             <form method=\"post\"><button type=\"submit\">Sign in</button></form></body></html>"
        ),
    )
}

/// `POST /__emulator/mvpd/{sp}/{code}/login`: signs in and redirects to the session's URL.
pub async fn login_submit(ctx: Ctx, Path((sp, code)): Path<(String, String)>) -> Response {
    let redirect = match crate::api::sessions::live_session(&ctx.0, &sp, &code) {
        Ok(s) => s.redirect_url.unwrap_or_default(),
        Err(r) => return r,
    };
    match complete(&ctx.0, &code, &Map::new()) {
        Ok(_) => (StatusCode::FOUND, [(header::LOCATION, redirect)]).into_response(),
        Err(e) => html_response(
            StatusCode::BAD_REQUEST,
            format!("<html><body>{e}</body></html>"),
        ),
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            c => c.to_string(),
        })
        .collect()
}
