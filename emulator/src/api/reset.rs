//! The TempPass reset management API: `DELETE /reset-tempass/v3/reset` and `.../reset/generic`.

use super::Ctx;
use crate::state::Shared;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

fn authorized(shared: &Shared, headers: &HeaderMap, requestor: &str) -> Result<(), StatusCode> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let now = shared.clock.now_ms();
    let state = shared.state();
    let t = state
        .tokens
        .get(token.trim())
        .filter(|t| t.expires_at > now)
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let c = state
        .clients
        .get(&t.client_id)
        .ok_or(StatusCode::FORBIDDEN)?;
    if c.revoked || c.service_provider != requestor {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(())
}

/// Which trials a reset targets.
enum Target<'a> {
    Device(&'a str),
    Key(&'a str),
    All,
}

fn reset(
    shared: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    param: &str,
) -> Response {
    let (Some(requestor), Some(mvpd)) = (query.get("requestor_id"), query.get("mvpd_id")) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if let Err(s) = authorized(shared, headers, requestor) {
        return s.into_response();
    }
    let is_temppass = shared
        .config
        .service_provider(requestor)
        .and_then(|c| c.mvpd(mvpd))
        .is_some_and(|m| m.temppass.is_some());
    if !is_temppass {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let target = match query.get(param).map(String::as_str) {
        None | Some("all") => Target::All,
        Some("") => return StatusCode::BAD_REQUEST.into_response(),
        Some(v) if param == "device_id" => Target::Device(v),
        Some(v) => Target::Key(v),
    };
    let mut state = shared.state();
    if let Some(trials) = state.trials.get_mut(&(requestor.clone(), mvpd.clone())) {
        match target {
            Target::All => trials.clear(),
            Target::Device(d) => trials.retain(|t| !t.devices.contains(d)),
            Target::Key(k) => trials.retain(|t| !t.identities.contains(k)),
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /reset-tempass/v3/reset?requestor_id=&mvpd_id=&device_id=` (device id or `all`).
pub async fn by_device(
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    reset(&ctx.0, &headers, &q, "device_id")
}

/// `DELETE /reset-tempass/v3/reset/generic?requestor_id=&mvpd_id=&key=` (identifier hash or `all`).
pub async fn by_key(
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    reset(&ctx.0, &headers, &q, "key")
}
