//! Single sign-on: the identities of the platform identity and service token methods, the
//! `AP-Partner-Framework-Status` header of the partner method, the emulated partner's SAML
//! messages, and the profile lookup that takes single sign-on profiles into account.

use crate::config::{MvpdConfig, ServiceProviderConfig};
use crate::state::{Profile, State};
use axum::http::HeaderMap;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

/// The partners the emulator knows (their single sign-on frameworks).
pub const PARTNERS: &[&str] = &["Apple"];

/// The partner name as the emulator spells it, if known (case-insensitive).
pub fn known_partner(partner: &str) -> Option<&'static str> {
    PARTNERS
        .iter()
        .copied()
        .find(|p| p.eq_ignore_ascii_case(partner))
}

/// Who the single sign-on headers of a request name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// From `Adobe-Subject-Token` or `X-Roku-Reserved-Roku-Connect-Token`.
    pub platform: Option<String>,
    /// From `AD-Service-Token`.
    pub service: Option<String>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn b64(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    URL_SAFE_NO_PAD
        .decode(t)
        .or_else(|_| URL_SAFE.decode(t))
        .or_else(|_| STANDARD.decode(t))
        .ok()
}

/// The subject of a JWS (its `sub`, if it has not expired at `now_ms`), or a stable digest of
/// a JWE (which the emulator cannot decrypt). `None` for anything else.
pub fn token_subject(token: &str, now_ms: i64) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {
            let claims: Value = serde_json::from_slice(&b64(parts[1])?).ok()?;
            if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
                if exp * 1000 <= now_ms {
                    return None;
                }
            }
            claims
                .get("sub")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        }
        5 => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            token.hash(&mut h);
            Some(format!("jwe-{:016x}", h.finish()))
        }
        _ => None,
    }
}

/// The single sign-on identities of a request; invalid or expired tokens name nobody.
pub fn subjects(headers: &HeaderMap, now_ms: i64) -> Subjects {
    let platform = header(headers, "adobe-subject-token")
        .or_else(|| header(headers, "x-roku-reserved-roku-connect-token"))
        .and_then(|t| token_subject(t, now_ms));
    let service = header(headers, "ad-service-token").and_then(|t| token_subject(t, now_ms));
    Subjects { platform, service }
}

/// The decoded `AP-Partner-Framework-Status` header.
#[derive(Debug, Clone, Default)]
pub struct FrameworkStatus {
    /// `granted`, `denied`, `restricted`, `notDetermined`, or absent.
    pub access_status: Option<String>,
    /// The provider (platform mapping) id.
    pub provider_id: Option<String>,
    /// The provider profile's expiry, ms.
    pub expiration_ms: Option<i64>,
}

/// Decodes the header; `None` when it is absent or not Base64-encoded JSON.
pub fn framework_status(headers: &HeaderMap) -> Option<FrameworkStatus> {
    let raw = header(headers, "ap-partner-framework-status")?;
    let v: Value = serde_json::from_slice(&b64(raw)?).ok()?;
    let text = |ptr: &str| {
        v.pointer(ptr)
            .and_then(|x| match x {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    Some(FrameworkStatus {
        access_status: text("/frameworkPermissionInfo/accessStatus"),
        provider_id: text("/frameworkProviderInfo/id"),
        expiration_ms: text("/frameworkProviderInfo/expirationDate").and_then(|s| s.parse().ok()),
    })
}

/// Checks a framework status as the profile endpoint does: the documented
/// `invalid_header_pfs_*` code of the first problem, or the MVPD the provider id maps to.
pub fn check_status<'a>(
    status: Option<&FrameworkStatus>,
    cfg: &'a ServiceProviderConfig,
    now_ms: i64,
) -> Result<&'a MvpdConfig, &'static str> {
    let s = status.ok_or("invalid_header_pfs_permission_access_not_present")?;
    match s.access_status.as_deref() {
        None => return Err("invalid_header_pfs_permission_access_not_present"),
        Some("granted") => {}
        Some("notDetermined") => return Err("invalid_header_pfs_permission_access_not_determined"),
        Some(_) => return Err("invalid_header_pfs_permission_access_not_granted"),
    }
    let mvpd = s
        .provider_id
        .as_deref()
        .and_then(|id| cfg.mvpd_for_platform_id(id))
        .ok_or("invalid_header_pfs_provider_id_not_determined")?;
    if s.expiration_ms.is_some_and(|t| t <= now_ms) {
        return Err("invalid_header_pfs_provider_info_expired");
    }
    Ok(mvpd)
}

/// Whether partner single sign-on may proceed for the MVPD (the integration is onboarded).
pub fn partner_ready(mvpd: &MvpdConfig) -> bool {
    mvpd.enable_platform_services && mvpd.boarding_status.as_deref() == Some("SUPPORTED")
}

/// The SAML attributes the emulated partner asks the MVPD for.
pub const SAML_ATTRIBUTES: &[&str] = &["uid", "NameID", "uniqueId"];

/// A SAML authentication request for the partner framework, Base64-encoded.
pub fn saml_request(id: &str, sp: &str, mvpd: &str, now_ms: i64) -> String {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"{id}\" \
Version=\"2.0\" IssueInstant=\"{now_ms}\" Destination=\"urn:tvpass-emulator:mvpd:{mvpd}\">\
<saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">urn:tvpass-emulator:sp:{sp}</saml:Issuer>\
</samlp:AuthnRequest>"
    );
    STANDARD.encode(xml)
}

/// The `ID` of a Base64-encoded SAML request.
pub fn saml_request_id(request: &str) -> Option<String> {
    let xml = String::from_utf8(b64(request)?).ok()?;
    attribute_of(&xml, "AuthnRequest", "ID")
}

/// The SAML response the emulated partner returns to the app, as the framework hands it over:
/// XML text over several indented lines (apps normalise it before sending it).
pub fn saml_response(id: &str, in_response_to: &str, mvpd: &str) -> String {
    format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"\n\
\tID=\"{id}\"   InResponseTo=\"{in_response_to}\" Version=\"2.0\">\n\
    <saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">{mvpd}</saml:Issuer>\n\
    <samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\n\
</samlp:Response>\n"
    )
}

/// The `ID` of the SAML response in a `SAMLResponse` parameter (Base64-encoded XML).
pub fn saml_response_id(param: &str) -> Option<String> {
    let xml = String::from_utf8(b64(param)?).ok()?;
    attribute_of(&xml, "Response", "ID")
}

/// The value of `attr="..."` in the first element whose local name is `element`.
fn attribute_of(xml: &str, element: &str, attr: &str) -> Option<String> {
    let start = xml
        .find(&format!(":{element} "))
        .or_else(|| xml.find(&format!("<{element} ")))?;
    let rest = &xml[start..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let needle = format!(" {attr}=\"");
    let pos = tag
        .find(&needle)
        .or_else(|| tag.find(&format!("\t{attr}=\"")))?;
    let value = &tag[pos + needle.len()..];
    let close = value.find('"')?;
    Some(value[..close].to_string()).filter(|v| !v.is_empty())
}

/// Where a found profile came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The device's own profile (regular or partner).
    Device,
    /// Shared through a single sign-on identity.
    SingleSignOn,
}

/// The valid profile a request may use for an MVPD: the device's own, else one shared through
/// the request's platform identity or service token (where the MVPD allows that method).
pub fn find_profile(
    state: &State,
    cfg: &ServiceProviderConfig,
    device: &str,
    subjects: &Subjects,
    mvpd: &str,
    now: i64,
) -> Option<(Profile, Origin)> {
    let own = state
        .profiles
        .get(&(cfg.id.clone(), device.to_string()))
        .and_then(|ps| ps.get(mvpd));
    if let Some(p) = own.filter(|p| p.not_before <= now && now < p.not_after) {
        return Some((p.clone(), Origin::Device));
    }
    let m = cfg.mvpd(mvpd)?;
    let shared = |method: &'static str, subject: &Option<String>, allowed: bool| {
        let subject = subject.as_ref().filter(|_| allowed)?;
        state
            .sso_profiles
            .get(&(method.to_string(), subject.clone()))
            .and_then(|ps| ps.get(mvpd))
            .filter(|p| p.not_before <= now && now < p.not_after)
            .cloned()
    };
    shared("platform", &subjects.platform, m.platform_sso)
        .or_else(|| shared("service", &subjects.service, m.service_token_sso))
        .map(|p| (p, Origin::SingleSignOn))
}

/// Whether the device has a profile of its own for the MVPD, valid or not: after
/// [`find_profile`] found none, tells an expired profile from a missing one.
pub fn has_expired_profile(
    state: &State,
    cfg: &ServiceProviderConfig,
    device: &str,
    mvpd: &str,
) -> bool {
    state
        .profiles
        .get(&(cfg.id.clone(), device.to_string()))
        .and_then(|ps| ps.get(mvpd))
        .is_some()
}
