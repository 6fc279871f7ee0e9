//! Authentication sessions: create, resume, retrieve, and the user-agent page.

use super::{parse_form, Ctx};
use crate::config::{Degradation, ServiceProviderConfig};
use crate::errors::{error_response, html_response, json_response};
use crate::headers::{bearer, content_type_is, device_identifier, device_info};
use crate::sso::{self, Origin, Subjects};
use crate::state::{plain_attributes, Profile, Session, Shared};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Which endpoint computes the next step: create answers `resume`, resume answers `retry`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Create,
    Resume,
}

fn session_answer(sp: &str, code: &str, s: &Session, action: &str, missing: &[&str]) -> Value {
    let mut v = json!({
        "actionName": action,
        "actionType": "direct",
        "reasonType": "none",
        "url": format!("/api/v2/{sp}/sessions/{code}"),
        "code": code,
        "sessionId": s.session_id,
        "serviceProvider": sp,
        "notBefore": s.not_before.to_string(),
        "notAfter": s.not_after.to_string(),
    });
    if !missing.is_empty() {
        v["missingParameters"] = json!(missing);
    }
    if let Some(m) = &s.mvpd {
        v["mvpd"] = json!(m);
    }
    v
}

fn authorize_answer(sp: &str, mvpd: &str, reason: &str, session_id: &str) -> Value {
    json!({
        "actionName": "authorize",
        "actionType": "direct",
        "reasonType": reason,
        "url": format!("/api/v2/{sp}/decisions/authorize/{mvpd}"),
        "sessionId": session_id,
        "mvpd": mvpd,
        "serviceProvider": sp,
    })
}

/// Merges form parameters into a session; an error answer for invalid values.
pub(crate) fn merge(
    cfg: &ServiceProviderConfig,
    s: &mut Session,
    form: &HashMap<String, String>,
) -> Result<(), Response> {
    let given = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(m) = given("mvpd") {
        if !cfg.mvpd(m).is_some_and(|m| m.enabled) {
            return Err(error_response("invalid_integration"));
        }
        s.mvpd = Some(m.to_string());
    }
    if let Some(d) = given("domainName") {
        s.domain_name = Some(d.to_string());
    }
    if let Some(r) = given("redirectUrl") {
        if url::Url::parse(r).is_err() {
            return Err(error_response("invalid_parameter_redirect_url"));
        }
        s.redirect_url = Some(r.to_string());
    }
    Ok(())
}

/// Why a partner single sign-on request fell back to the basic flow (its `reasonType`).
pub type Fallback = Option<&'static str>;

/// The answer for a session whose parameters changed, storing it when the user must act.
/// `fallback` is set when a partner single sign-on request falls back to the basic flow.
pub(crate) fn advance(
    shared: &Shared,
    cfg: &ServiceProviderConfig,
    code: String,
    s: Session,
    step: Step,
    fallback: Fallback,
) -> Value {
    let sp = cfg.id.as_str();
    let missing = s.missing();
    if !missing.is_empty() {
        let action = if step == Step::Resume {
            "retry"
        } else {
            "resume"
        };
        let mut a = session_answer(sp, &code, &s, action, &missing);
        if let Some(reason) = fallback {
            a["reasonType"] = json!(reason);
        }
        shared.state().sessions.insert(code, s);
        return a;
    }
    let mvpd_id = s.mvpd.clone().unwrap_or_default();
    let mvpd = cfg.mvpd(&mvpd_id).expect("merged MVPDs are configured");
    let now = shared.clock.now_ms();
    let subjects = Subjects {
        platform: s.platform_subject.clone(),
        service: s.service_subject.clone(),
    };
    let found = s
        .device_id
        .as_ref()
        .and_then(|d| sso::find_profile(&shared.state(), cfg, d, &subjects, &mvpd_id, now));
    if mvpd.temppass.is_some() {
        shared.state().sessions.remove(&code);
        authorize_answer(sp, &mvpd_id, "temporary", &s.session_id)
    } else if mvpd.degradation == Degradation::AuthnAll {
        shared.state().sessions.remove(&code);
        authorize_answer(sp, &mvpd_id, "degraded", &s.session_id)
    } else if let Some((p, origin)) = found {
        shared.state().sessions.remove(&code);
        let reason = if origin == Origin::SingleSignOn || p.kind == "appleSSO" {
            "authenticatedSSO"
        } else {
            "authenticated"
        };
        authorize_answer(sp, &mvpd_id, reason, &s.session_id)
    } else {
        let mut a = session_answer(sp, &code, &s, "authenticate", &[]);
        a["actionType"] = json!("interactive");
        a["url"] = json!(format!("/api/v2/authenticate/{sp}/{code}"));
        if let Some(reason) = fallback {
            a["reasonType"] = json!(reason);
        }
        shared.state().sessions.insert(code, s);
        a
    }
}

pub(crate) struct Checked {
    pub device_id: String,
    pub device_info: Option<Value>,
    pub form: HashMap<String, String>,
}

pub(crate) fn check(
    shared: &Shared,
    sp: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Checked, Response> {
    bearer(shared, headers, sp)?;
    let device_id = device_identifier(headers, true)?.unwrap_or_default();
    let device_info = device_info(headers, true)?;
    if !content_type_is(headers, "application/x-www-form-urlencoded") && !body.is_empty() {
        return Err(error_response("invalid_parameter_mvpd"));
    }
    let form = parse_form(body).ok_or_else(|| error_response("invalid_parameter_mvpd"))?;
    Ok(Checked {
        device_id,
        device_info,
        form,
    })
}

/// `POST /api/v2/{serviceProvider}/sessions`.
pub async fn create(ctx: Ctx, Path(sp): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let shared = ctx.0;
    let c = match check(&shared, &sp, &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let cfg = shared
        .config
        .service_provider(&sp)
        .expect("checked by bearer");
    let now = shared.clock.now_ms();
    let mut s = Session::new(&shared, &sp, c.device_id, c.device_info, now);
    let subjects = sso::subjects(&headers, now);
    s.platform_subject = subjects.platform;
    s.service_subject = subjects.service;
    if let Err(r) = merge(cfg, &mut s, &c.form) {
        return r;
    }
    let answer = advance(&shared, cfg, shared.code(), s, Step::Create, None);
    json_response(StatusCode::OK, &answer)
}

/// `POST /api/v2/{serviceProvider}/sessions/{code}`: provides missing parameters.
pub async fn resume(
    ctx: Ctx,
    Path((sp, code)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared = ctx.0;
    let c = match check(&shared, &sp, &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let cfg = shared
        .config
        .service_provider(&sp)
        .expect("checked by bearer");
    let mut s = match live_session(&shared, &sp, &code) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = merge(cfg, &mut s, &c.form) {
        return r;
    }
    json_response(
        StatusCode::OK,
        &advance(&shared, cfg, code, s, Step::Resume, None),
    )
}

/// The session for a code if it exists for the service provider and has not expired.
pub fn live_session(shared: &Shared, sp: &str, code: &str) -> Result<Session, Response> {
    let now = shared.clock.now_ms();
    let state = shared.state();
    let s = state
        .sessions
        .get(code)
        .filter(|s| s.service_provider == sp)
        .ok_or_else(|| error_response("invalid_parameter_code"))?;
    if s.not_after <= now {
        return Err(error_response("invalid_authentication_session"));
    }
    Ok(s.clone())
}

/// `GET /api/v2/{serviceProvider}/sessions/{code}` (also `/api/v2/sessions/{sp}/{code}`).
pub async fn retrieve(
    ctx: Ctx,
    Path((sp, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let shared = ctx.0;
    if let Err(r) = bearer(&shared, &headers, &sp) {
        return r;
    }
    let s = match live_session(&shared, &sp, &code) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut existing = Map::new();
    existing.insert("serviceProvider".into(), json!(sp));
    for (k, v) in [
        ("mvpd", &s.mvpd),
        ("domainName", &s.domain_name),
        ("redirectUrl", &s.redirect_url),
    ] {
        if let Some(v) = v {
            existing.insert(k.into(), json!(v));
        }
    }
    let mut answer = json!({
        "existingParameters": existing,
        "device": s.device_info.clone().unwrap_or(Value::Null),
        "notBefore": s.not_before.to_string(),
        "notAfter": s.not_after.to_string(),
    });
    let missing = s.missing();
    if !missing.is_empty() {
        answer["missingParameters"] = json!(missing);
    }
    json_response(StatusCode::OK, &answer)
}

/// `GET /api/v2/authenticate/{serviceProvider}/{code}`: redirects the user agent to the
/// emulated MVPD login page.
pub async fn authenticate(ctx: Ctx, Path((sp, code)): Path<(String, String)>) -> Response {
    let shared = ctx.0;
    match live_session(&shared, &sp, &code) {
        Ok(s) if s.missing().is_empty() => (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("/__emulator/mvpd/{sp}/{code}/login"),
            )],
        )
            .into_response(),
        _ => html_response(
            StatusCode::BAD_REQUEST,
            "<html><body><p>Invalid authentication code.</p></body></html>".into(),
        ),
    }
}

/// Completes the authentication of a session's user: creates the device's profile for the
/// session's MVPD, with these attribute values (plain values are wrapped as `{value, state}`).
pub fn complete(
    shared: &Shared,
    code: &str,
    attributes: &Map<String, Value>,
) -> Result<Value, String> {
    let now = shared.clock.now_ms();
    let mut state = shared.state();
    let s = state
        .sessions
        .get_mut(code)
        .ok_or_else(|| format!("no session with code {code}"))?;
    if s.not_after <= now {
        return Err(format!("the session of code {code} has expired"));
    }
    let (Some(mvpd), Some(device)) = (s.mvpd.clone(), s.device_id.clone()) else {
        return Err(format!(
            "the session of code {code} still misses parameters"
        ));
    };
    s.completed = true;
    let sp = s.service_provider.clone();
    let (platform_subject, service_subject) =
        (s.platform_subject.clone(), s.service_subject.clone());
    let ttl = shared
        .config
        .service_provider(&sp)
        .and_then(|c| c.mvpd(&mvpd))
        .map(|m| m.profile_ttl_secs)
        .unwrap_or(86400);
    let mut attrs = attributes.clone();
    attrs
        .entry("userID")
        .or_insert_with(|| json!(format!("user-{:08x}", shared.random_u64() as u32)));
    let profile = Profile {
        not_before: now,
        not_after: now + ttl as i64 * 1000,
        kind: "regular".into(),
        issuer: mvpd.clone(),
        attributes: plain_attributes(&attrs),
    };
    let json = crate::state::profile_json(&profile);
    let m = shared
        .config
        .service_provider(&sp)
        .and_then(|c| c.mvpd(&mvpd));
    let shares = [
        (
            "platform",
            "platformSSO",
            platform_subject,
            m.is_some_and(|m| m.platform_sso),
        ),
        (
            "service",
            "serviceTokenSSO",
            service_subject,
            m.is_some_and(|m| m.service_token_sso),
        ),
    ];
    for (method, kind, subject, allowed) in shares {
        if let (Some(subject), true) = (subject, allowed) {
            let shared_profile = Profile {
                kind: kind.into(),
                ..profile.clone()
            };
            state
                .sso_profiles
                .entry((method.to_string(), subject))
                .or_default()
                .insert(mvpd.clone(), shared_profile);
        }
    }
    state
        .profiles
        .entry((sp, device))
        .or_default()
        .insert(mvpd.clone(), profile);
    Ok(json!({ "profiles": { mvpd: json } }))
}
