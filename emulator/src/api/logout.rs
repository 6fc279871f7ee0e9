//! `GET /api/v2/{serviceProvider}/logout/{mvpd}?redirectUrl=...`.

use super::Ctx;
use crate::errors::{error_response, json_response};
use crate::headers::authorized_device;
use crate::sso;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;

/// Removes the device's profile for the MVPD and tells the app what is left to do.
pub async fn logout(
    ctx: Ctx,
    Path((sp, mvpd)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let shared = ctx.0;
    let device = match authorized_device(&shared, &headers, &sp) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(redirect) = query
        .get("redirectUrl")
        .filter(|r| url::Url::parse(r).is_ok())
    else {
        return error_response("invalid_parameter_redirect_url");
    };
    let cfg = shared
        .config
        .service_provider(&sp)
        .expect("checked by bearer");
    let Some(m) = cfg.mvpd(&mvpd).filter(|m| m.enabled) else {
        return error_response("invalid_integration");
    };
    let now = shared.clock.now_ms();
    let subjects = sso::subjects(&headers, now);
    let mut removed = Vec::new();
    {
        let mut state = shared.state();
        removed.extend(
            state
                .profiles
                .get_mut(&(sp.clone(), device))
                .and_then(|ps| ps.remove(&mvpd)),
        );
        // Single logout: the profiles shared through the request's identities go too.
        for (method, subject) in [
            ("platform", &subjects.platform),
            ("service", &subjects.service),
        ] {
            if let Some(subject) = subject {
                removed.extend(
                    state
                        .sso_profiles
                        .get_mut(&(method.to_string(), subject.clone()))
                        .and_then(|ps| ps.remove(&mvpd)),
                );
            }
        }
    }
    removed.retain(|p| p.not_after > now);
    let had_profile = !removed.is_empty();
    let partner = removed.iter().any(|p| p.kind == "appleSSO");
    let mut action = json!({ "mvpd": mvpd });
    let (name, kind) = match (&m.temppass, had_profile, &m.logout_url) {
        (Some(_), _, _) => ("complete", "none"),
        (None, false, _) => ("invalid", "none"),
        (None, true, _) if partner => ("partner_logout", "partner_interactive"),
        (None, true, None) => ("complete", "none"),
        (None, true, Some(u)) => {
            let mut url = url::Url::parse(u).unwrap_or_else(|_| {
                url::Url::parse("https://logout.invalid/").expect("static URL")
            });
            url.query_pairs_mut()
                .append_pair("mso_id", &mvpd)
                .append_pair("requestor_id", &sp)
                .append_pair("redirect_url", redirect);
            action["url"] = json!(url.as_str());
            ("logout", "interactive")
        }
    };
    action["actionName"] = json!(name);
    action["actionType"] = json!(kind);
    json_response(StatusCode::OK, &json!({ "logouts": { mvpd: action } }))
}
