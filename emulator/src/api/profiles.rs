//! Profiles: all, by MVPD, by code.

use super::sessions::live_session;
use super::Ctx;
use crate::config::{Degradation, ServiceProviderConfig};
use crate::errors::{error_response, json_response};
use crate::headers::{authorized_device, bearer};
use crate::sso;
use crate::state::{profile_json, Shared};
use crate::temppass;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

/// The device's valid profiles, all or for one MVPD.
fn device_profiles(
    shared: &Shared,
    cfg: &ServiceProviderConfig,
    device: &str,
    headers: &HeaderMap,
    only: Option<&str>,
) -> Result<Map<String, Value>, Response> {
    let now = shared.clock.now_ms();
    let wanted = |id: &str| only.is_none_or(|o| o == id);
    let mut out = Map::new();
    let state = shared.state();
    let subjects = sso::subjects(headers, now);
    for m in cfg.mvpds.iter().filter(|m| m.enabled && wanted(&m.id)) {
        if let Some((p, _)) = sso::find_profile(&state, cfg, device, &subjects, &m.id, now) {
            out.insert(m.id.clone(), profile_json(&p));
        }
    }
    for m in cfg.mvpds.iter().filter(|m| m.enabled && wanted(&m.id)) {
        if m.degradation == Degradation::AuthnAll {
            out.insert(
                m.id.clone(),
                json!({
                    "notBefore": now,
                    "notAfter": now + 3600 * 1000,
                    "issuer": "Adobe",
                    "type": "degraded",
                    "attributes": {"userID": {"value": format!("95cf93bcd183214a{:x}", shared.random_u64()), "state": "plain"}},
                }),
            );
        }
        let Some(tp) = &m.temppass else { continue };
        let who = match temppass::requester(shared, tp, headers, device.to_string()) {
            Some(w) => w,
            None if only.is_some() => {
                return Err(error_response(
                    "invalid_header_identity_for_temporary_access",
                ))
            }
            None => temppass::Requester {
                device: device.to_string(),
                identity: None,
            },
        };
        let Some(trials) = state.trials.get(&(cfg.id.clone(), m.id.clone())) else {
            continue;
        };
        let Some(i) = temppass::find(trials, &who) else {
            continue;
        };
        let t = &trials[i];
        if t.expires_at <= now {
            if only.is_some() {
                return Err(error_response("temporary_access_duration_limit_exceeded"));
            }
        } else if temppass::remaining(tp, t) == Some(0) && only.is_some() {
            return Err(error_response("temporary_access_resources_limit_exceeded"));
        } else {
            out.insert(m.id.clone(), temppass::profile(tp, t, device));
        }
    }
    Ok(out)
}

fn answer(profiles: Map<String, Value>) -> Response {
    json_response(StatusCode::OK, &json!({ "profiles": profiles }))
}

/// `GET /api/v2/{serviceProvider}/profiles`.
pub async fn all(ctx: Ctx, Path(sp): Path<String>, headers: HeaderMap) -> Response {
    let shared = ctx.0;
    let device = match authorized_device(&shared, &headers, &sp) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let cfg = shared
        .config
        .service_provider(&sp)
        .expect("checked by bearer");
    match device_profiles(&shared, cfg, &device, &headers, None) {
        Ok(p) => answer(p),
        Err(r) => r,
    }
}

/// `GET /api/v2/{serviceProvider}/profiles/{mvpd}`.
pub async fn by_mvpd(
    ctx: Ctx,
    Path((sp, mvpd)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let shared = ctx.0;
    let device = match authorized_device(&shared, &headers, &sp) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let cfg = shared
        .config
        .service_provider(&sp)
        .expect("checked by bearer");
    if !cfg.mvpd(&mvpd).is_some_and(|m| m.enabled) {
        return error_response("invalid_integration");
    }
    match device_profiles(&shared, cfg, &device, &headers, Some(&mvpd)) {
        Ok(p) => answer(p),
        Err(r) => r,
    }
}

/// `GET /api/v2/{serviceProvider}/profiles/code/{code}`: empty until the user completes
/// authentication, then the new profile.
pub async fn by_code(
    ctx: Ctx,
    Path((sp, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let shared = ctx.0;
    if let Err(r) = bearer(&shared, &headers, &sp) {
        return r;
    }
    let session = match live_session(&shared, &sp, &code) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut out = Map::new();
    if session.completed {
        let now = shared.clock.now_ms();
        let state = shared.state();
        let (Some(mvpd), Some(device)) = (&session.mvpd, &session.device_id) else {
            return answer(out);
        };
        if let Some(p) = state
            .profiles
            .get(&(sp.clone(), device.clone()))
            .and_then(|ps| ps.get(mvpd))
            .filter(|p| p.not_after > now)
        {
            out.insert(mvpd.clone(), profile_json(p));
        }
    }
    answer(out)
}
