//! Partner single sign-on: `POST /api/v2/{sp}/sessions/sso/{partner}` (the partner
//! authentication request) and `POST /api/v2/{sp}/profiles/sso/{partner}` (the profile from the
//! partner authentication response), plus the emulated partner that answers SAML requests.

use super::sessions::{advance, check, merge, Checked, Step};
use super::Ctx;
use crate::config::{Degradation, ServiceProviderConfig};
use crate::errors::{error_response, json_response};
use crate::sso::{self, FrameworkStatus};
use crate::state::{
    plain_attributes, profile_json, PartnerRequest, PartnerResponse, Profile, Session, Shared,
};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

/// The checks both partner endpoints share: bearer, device headers, form body, known partner.
fn checked<'a>(
    shared: &'a Shared,
    sp: &str,
    partner: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Checked, &'static str, &'a ServiceProviderConfig), Response> {
    let c = check(shared, sp, headers, body)?;
    let partner =
        sso::known_partner(partner).ok_or_else(|| error_response("invalid_parameter_partner"))?;
    let cfg = shared
        .config
        .service_provider(sp)
        .expect("checked by bearer");
    Ok((c, partner, cfg))
}

/// `POST /api/v2/{serviceProvider}/sessions/sso/{partner}`.
pub async fn session(
    ctx: Ctx,
    Path((sp, partner)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared = ctx.0;
    let (c, partner, cfg) = match checked(&shared, &sp, &partner, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = shared.clock.now_ms();
    let status = sso::framework_status(&headers);
    // The provider the framework names, even when the status is otherwise unusable: the
    // basic flow it falls back to can still preselect it.
    let named = status
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .and_then(|id| cfg.mvpd_for_platform_id(id));
    let checked = sso::check_status(status.as_ref(), cfg, now);
    let mut s = Session::new(&shared, &sp, c.device_id, c.device_info, now);
    s.mvpd = named.map(|m| m.id.clone());
    let mut form = c.form;
    form.remove("mvpd");
    if let Err(r) = merge(cfg, &mut s, &form) {
        return r;
    }
    let fallback = match checked {
        Err(_) => Some("pfs_fallback"),
        Ok(m) if !cfg.partner_enabled(partner) || !sso::partner_ready(m) => {
            Some("configuration_fallback")
        }
        Ok(_) if !s.missing().is_empty() => Some("missing_parameters_fallback"),
        Ok(_) => None,
    };
    let code = shared.code();
    if fallback.is_some() {
        return json_response(
            StatusCode::OK,
            &advance(&shared, cfg, code, s, Step::Create, fallback),
        );
    }
    let m = checked.expect("checked above");
    // A profile that already applies (or degradation) goes straight to decisions.
    let decided = advance(&shared, cfg, code.clone(), s.clone(), Step::Create, None);
    if decided["actionName"] == "authorize" {
        return json_response(StatusCode::OK, &decided);
    }
    shared.state().sessions.remove(&code);
    let request_id = format!("_{}", shared.uuid());
    shared.state().partner_requests.insert(
        request_id.clone(),
        PartnerRequest {
            service_provider: sp.clone(),
            mvpd: m.id.clone(),
            expires_at: s.not_after,
        },
    );
    json_response(
        StatusCode::OK,
        &json!({
            "actionName": "partner_profile",
            "actionType": "direct",
            "reasonType": "none",
            "url": format!("/api/v2/{sp}/profiles/sso/{partner}"),
            "sessionId": s.session_id,
            "mvpd": m.id,
            "serviceProvider": sp,
            "authenticationRequest": {
                "type": "saml",
                "request": sso::saml_request(&request_id, &sp, &m.id, now),
                "attributesNames": sso::SAML_ATTRIBUTES,
            },
        }),
    )
}

/// `POST /api/v2/{serviceProvider}/profiles/sso/{partner}`.
pub async fn profile(
    ctx: Ctx,
    Path((sp, partner)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared = ctx.0;
    let (c, partner, cfg) = match checked(&shared, &sp, &partner, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = shared.clock.now_ms();
    let response = c
        .form
        .get("SAMLResponse")
        .and_then(|r| sso::saml_response_id(r))
        .and_then(|id| {
            let state = shared.state();
            state
                .partner_responses
                .get(&id)
                .filter(|r| r.service_provider == sp && r.expires_at > now)
                .cloned()
                .map(|r| (id, r))
        });
    let Some((response_id, response)) = response else {
        return error_response("invalid_parameter_saml_response");
    };
    let status: Option<FrameworkStatus> = sso::framework_status(&headers);
    let m = match sso::check_status(status.as_ref(), cfg, now) {
        Ok(m) => m,
        Err(code) => return error_response(code),
    };
    if m.id != response.mvpd {
        return error_response("invalid_header_pfs_provider_id_mismatch");
    }
    if m.degradation == Degradation::AuthnAll {
        return json_response(
            StatusCode::OK,
            &json!({"profiles": {m.id.clone(): {
                "notBefore": now,
                "notAfter": now + 3600 * 1000,
                "issuer": "Adobe",
                "type": "degraded",
                "attributes": {"userID": {"value": format!("95cf93bcd183214a{:x}", shared.random_u64()), "state": "plain"}},
            }}}),
        );
    }
    let mut state = shared.state();
    if !cfg.partner_enabled(partner) || !sso::partner_ready(m) {
        // Partner single sign-on is off for this integration: the basic profile retrieval.
        let mut out = Map::new();
        if let Some(p) = state
            .profiles
            .get(&(sp.clone(), c.device_id.clone()))
            .and_then(|ps| ps.get(&m.id))
            .filter(|p| p.not_before <= now && now < p.not_after)
        {
            out.insert(m.id.clone(), profile_json(p));
        }
        return json_response(StatusCode::OK, &json!({ "profiles": out }));
    }
    // A partner response is used once.
    state.partner_responses.remove(&response_id);
    let mut attrs = response.attributes.clone();
    attrs
        .entry("userID")
        .or_insert_with(|| json!(format!("apple-{:08x}", shared.random_u64() as u32)));
    let p = Profile {
        not_before: now,
        not_after: now + m.profile_ttl_secs as i64 * 1000,
        kind: "appleSSO".into(),
        issuer: partner.to_string(),
        attributes: plain_attributes(&attrs),
    };
    let json = profile_json(&p);
    state
        .profiles
        .entry((sp, c.device_id))
        .or_default()
        .insert(m.id.clone(), p);
    json_response(
        StatusCode::CREATED,
        &json!({ "profiles": { m.id.clone(): json } }),
    )
}

/// The emulated partner framework: the user logs in with the MVPD of a partner authentication
/// request. Returns the SAML response text the framework would hand to the app.
pub fn partner_login(
    shared: &Shared,
    partner: &str,
    request: &str,
    attributes: &Map<String, Value>,
) -> Result<String, String> {
    sso::known_partner(partner).ok_or_else(|| format!("unknown partner {partner}"))?;
    let id = sso::saml_request_id(request).ok_or("not a partner authentication request")?;
    let now = shared.clock.now_ms();
    let mut state = shared.state();
    let req = state
        .partner_requests
        .get(&id)
        .filter(|r| r.expires_at > now)
        .cloned()
        .ok_or("unknown or expired partner authentication request")?;
    let response_id = format!("_{}", shared.uuid());
    let text = sso::saml_response(&response_id, &id, &req.mvpd);
    state.partner_responses.insert(
        response_id,
        PartnerResponse {
            service_provider: req.service_provider,
            mvpd: req.mvpd,
            attributes: attributes.clone(),
            expires_at: req.expires_at,
        },
    );
    Ok(text)
}
