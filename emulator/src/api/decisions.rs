//! Decisions: `POST /api/v2/{sp}/decisions/authorize/{mvpd}` and `.../preauthorize/{mvpd}`.

use super::Ctx;
use crate::config::{Degradation, MvpdConfig, ServiceProviderConfig, TempPassConfig};
use crate::errors::{enhanced, error_response, json_response};
use crate::headers::{authorized_device, content_type_is};
use crate::sso;
use crate::state::Shared;
use crate::temppass;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

/// Authorization (with media tokens) or preauthorization (catalogue filtering).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Before playback; permits carry a media token.
    Authorize,
    /// For the catalogue; no media token.
    Preauthorize,
}

struct Ctx2<'a> {
    shared: &'a Shared,
    sp: &'a ServiceProviderConfig,
    mvpd: &'a MvpdConfig,
    kind: Kind,
    now: i64,
    subjects: sso::Subjects,
}

impl Ctx2<'_> {
    fn base(&self, resource: &str, source: &str) -> Value {
        json!({
            "resource": resource,
            "serviceProvider": self.sp.id,
            "mvpd": self.mvpd.id,
            "source": source,
        })
    }

    fn permit(&self, resource: &str, source: &str, not_after: i64) -> Value {
        let mut d = self.base(resource, source);
        d["authorized"] = json!(true);
        if self.kind == Kind::Authorize {
            let media_after =
                (self.now + self.shared.config.media_token_ttl_secs as i64 * 1000).min(not_after);
            let payload = json!({
                "resource": resource,
                "mvpd": self.mvpd.id,
                "requestor": self.sp.id,
                "expires": media_after,
                "nonce": format!("{:016x}", self.shared.random_u64()),
            });
            d["token"] = json!({
                "notBefore": self.now,
                "notAfter": media_after,
                "serializedToken": STANDARD.encode(payload.to_string()),
            });
        }
        d["notBefore"] = json!(self.now);
        d["notAfter"] = json!(not_after);
        d
    }

    fn deny(&self, resource: &str, source: &str, code: &str, window: bool) -> Value {
        let mut d = self.base(resource, source);
        d["authorized"] = json!(false);
        d["error"] = enhanced(code, None);
        if window {
            d["notBefore"] = json!(self.now);
            d["notAfter"] = json!(self.now + self.shared.config.decision_ttl_secs as i64 * 1000);
        }
        d
    }
}

/// The name the MVPD's rules know a resource by: the resource itself, or for a media RSS
/// resource (`<rss>…<channel><title>REF30</title>…`, the decisions page's second form) the text
/// of its first `title`, trimmed, a CDATA section unwrapped. An MRSS without a title keeps its
/// whole text, which no rule names.
pub fn resource_name(resource: &str) -> &str {
    let text = resource.trim_start();
    if !text.starts_with("<rss") && !text.starts_with("<?xml") {
        return resource;
    }
    let Some(start) = text.find("<title>").map(|i| i + "<title>".len()) else {
        return resource;
    };
    let Some(len) = text[start..].find("</title>") else {
        return resource;
    };
    let title = text[start..start + len].trim();
    title
        .strip_prefix("<![CDATA[")
        .and_then(|t| t.strip_suffix("]]>"))
        .map_or(title, str::trim)
}

fn parse_resources(headers: &HeaderMap, body: &[u8]) -> Option<Vec<String>> {
    if !content_type_is(headers, "application/json") {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    let list = v.get("resources")?.as_array()?;
    let out: Option<Vec<String>> = list
        .iter()
        .map(|r| {
            r.as_str()
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
        })
        .collect();
    out.filter(|l| !l.is_empty())
}

async fn decide(
    ctx: Ctx,
    (sp, mvpd): (String, String),
    headers: HeaderMap,
    body: Bytes,
    kind: Kind,
) -> Response {
    let shared = ctx.0;
    let device = match authorized_device(&shared, &headers, &sp) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(resources) = parse_resources(&headers, &body) else {
        return error_response("invalid_parameter_resources");
    };
    let cfg = shared
        .config
        .service_provider(&sp)
        .expect("checked by bearer");
    let Some(m) = cfg.mvpd(&mvpd).filter(|m| m.enabled) else {
        return error_response("invalid_integration");
    };
    let limit = match kind {
        Kind::Authorize => cfg.max_authorize_resources,
        Kind::Preauthorize => cfg.max_preauthorize_resources,
    };
    if resources.len() > limit {
        return error_response("too_many_resources");
    }
    let c = Ctx2 {
        shared: &shared,
        sp: cfg,
        mvpd: m,
        kind,
        now: shared.clock.now_ms(),
        subjects: sso::subjects(&headers, shared.clock.now_ms()),
    };
    let decisions = match &m.temppass {
        Some(tp) => temppass_decisions(&c, tp, &headers, device, &resources),
        None => match mvpd_decisions(&c, &device, &resources) {
            Ok(d) => d,
            Err(r) => return r,
        },
    };
    json_response(StatusCode::OK, &json!({ "decisions": decisions }))
}

fn mvpd_decisions(c: &Ctx2, device: &str, resources: &[String]) -> Result<Vec<Value>, Response> {
    let m = c.mvpd;
    let decision_after = c.now + c.shared.config.decision_ttl_secs as i64 * 1000;
    match m.degradation {
        Degradation::AuthzNone => {
            return Ok(resources
                .iter()
                .map(|r| {
                    c.deny(
                        r,
                        "degradation",
                        "authorization_denied_by_degradation_rule",
                        false,
                    )
                })
                .collect())
        }
        Degradation::AuthnAll => {
            return Ok(resources
                .iter()
                .map(|r| c.permit(r, "degradation", decision_after))
                .collect())
        }
        _ => {}
    }
    // Without a usable profile every resource is a Deny carrying the profile's error, in a 200
    // decisions list: the page lists 400, 401, 405 and 500 as the operation's error statuses,
    // while these codes carry 403 (the `top_level_error` fault gives the other form).
    let profile_after = {
        let state = c.shared.state();
        match sso::find_profile(&state, c.sp, device, &c.subjects, &m.id, c.now) {
            Some((p, _)) => p.not_after,
            None => {
                let code = if sso::has_expired_profile(&state, c.sp, device, &m.id) {
                    "authenticated_profile_expired"
                } else {
                    "authenticated_profile_missing"
                };
                return Ok(resources
                    .iter()
                    .map(|r| c.deny(r, "mvpd", code, false))
                    .collect());
            }
        }
    };
    let after = decision_after.min(profile_after);
    if m.degradation == Degradation::AuthzAll {
        return Ok(resources
            .iter()
            .map(|r| c.permit(r, "degradation", after))
            .collect());
    }
    let denied_by_mvpd = match c.kind {
        Kind::Authorize => "authorization_denied_by_mvpd",
        Kind::Preauthorize => "preauthorization_denied_by_mvpd",
    };
    Ok(resources
        .iter()
        .map(|r| {
            // The MVPD's rules name resources; an MRSS resource goes by its channel's title.
            let name = resource_name(r);
            if let Some(code) = m.deny.get(name) {
                c.deny(r, "mvpd", code, true)
            } else if m.parental_controls.iter().any(|p| p == name) {
                c.deny(r, "mvpd", "authorization_denied_by_parental_controls", true)
            } else if !m.allows(name) {
                c.deny(r, "mvpd", denied_by_mvpd, true)
            } else {
                c.permit(r, "mvpd", after)
            }
        })
        .collect())
}

fn temppass_decisions(
    c: &Ctx2,
    tp: &TempPassConfig,
    headers: &HeaderMap,
    device: String,
    resources: &[String],
) -> Vec<Value> {
    let deny_all = |code: &str| {
        resources
            .iter()
            .map(|r| c.deny(r, "temppass", code, false))
            .collect()
    };
    let Some(who) = temppass::requester(c.shared, tp, headers, device) else {
        return deny_all("invalid_header_identity_for_temporary_access");
    };
    let mut state = c.shared.state();
    let trials = state
        .trials
        .entry((c.sp.id.clone(), c.mvpd.id.clone()))
        .or_default();
    let index = match (temppass::find(trials, &who), c.kind) {
        (Some(i), _) => i,
        (None, Kind::Authorize) => {
            trials.push(temppass::start(tp, &who, c.now));
            trials.len() - 1
        }
        (None, Kind::Preauthorize) => {
            let after = c.now + tp.ttl_secs as i64 * 1000;
            return resources
                .iter()
                .map(|r| c.permit(r, "temppass", after))
                .collect();
        }
    };
    let trial = &mut trials[index];
    temppass::link(trial, &who);
    if trial.expires_at <= c.now {
        drop(state);
        return deny_all("temporary_access_duration_limit_exceeded");
    }
    let after = trial.expires_at;
    let mut out = Vec::with_capacity(resources.len());
    for r in resources {
        let used = trial.used_assets.contains(r);
        let room = temppass::remaining(tp, trial).is_none_or(|n| n > 0);
        if tp.max_resources.is_none() || used {
            out.push(c.permit(r, "temppass", after));
        } else if room {
            if c.kind == Kind::Authorize {
                trial.used_assets.push(r.clone());
            }
            out.push(c.permit(r, "temppass", after));
        } else {
            out.push(c.deny(
                r,
                "temppass",
                "temporary_access_resources_limit_exceeded",
                false,
            ));
        }
    }
    out
}

/// `POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}`.
pub async fn authorize(
    ctx: Ctx,
    Path(p): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    decide(ctx, p, headers, body, Kind::Authorize).await
}

/// `POST /api/v2/{serviceProvider}/decisions/preauthorize/{mvpd}`.
pub async fn preauthorize(
    ctx: Ctx,
    Path(p): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    decide(ctx, p, headers, body, Kind::Preauthorize).await
}

#[cfg(test)]
mod tests {
    use super::resource_name;

    #[test]
    fn an_mrss_resource_goes_by_its_channels_title() {
        let page = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"> \n    \
                    <channel>\n        <title>REF30</title>\n        \
                    <media:rating scheme=\"urn:mpaa\">pg</media:rating>\n    </channel>\n</rss>";
        assert_eq!(resource_name(page), "REF30");
        assert_eq!(
            resource_name("<rss><channel><title><![CDATA[ news ]]></title></channel></rss>"),
            "news"
        );
        assert_eq!(resource_name("REF30"), "REF30");
        assert_eq!(
            resource_name("<title>REF30</title>"),
            "<title>REF30</title>"
        );
        let untitled = "<rss><channel></channel></rss>";
        assert_eq!(resource_name(untitled), untitled);
    }
}
