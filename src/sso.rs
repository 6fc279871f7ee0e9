//! Single sign-on: the partner framework status of the partner method (Apple), the platform
//! identity (Amazon, Roku) and service token identities, and the request headers that carry
//! them.
//!
//! Which calls carry which header follows the API pages: the platform identity and service
//! token go on session creation, profiles (all and by MVPD), decisions and logout;
//! `AP-Partner-Framework-Status` on the partner APIs, profiles (all and by MVPD) and decisions;
//! `AP-Visitor-Identifier` on every session, profile, partner, decision and logout call.

use crate::error::PassError;
use crate::http::{HeaderMap, HeaderName, HeaderValue};
use crate::secret::Secret;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// The partner name of Apple's single sign-on (the VideoSubscriberAccount framework).
pub const PARTNER_APPLE: &str = "Apple";

/// Whether the user lets the app read their TV provider subscription, as the partner framework
/// reports it (`frameworkPermissionInfo.accessStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartnerAccessStatus {
    /// The user allowed it.
    Granted,
    /// The user denied it.
    Denied,
    /// The app may not access it (e.g. parental restrictions).
    Restricted,
    /// The user has not chosen yet.
    NotDetermined,
}

impl PartnerAccessStatus {
    /// The header's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Denied => "denied",
            Self::Restricted => "restricted",
            Self::NotDetermined => "notDetermined",
        }
    }
}

/// An error the partner framework reported while the app asked it for a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerFrameworkError {
    /// The framework's error code.
    pub code: String,
    /// The framework's description.
    pub message: String,
}

/// What the partner framework says about the user: the `AP-Partner-Framework-Status` header,
/// as a typed record. Build it from the framework's answers (the Swift package maps
/// VideoSubscriberAccount's status for you) and hand it to the partner calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerFrameworkStatus {
    /// The user's permission.
    pub access_status: PartnerAccessStatus,
    /// The framework's error while asking for the permission, if any.
    pub access_error: Option<PartnerFrameworkError>,
    /// The provider id the framework knows the user's MVPD by (the configuration's
    /// `platform_mapping_id`).
    pub provider_id: Option<String>,
    /// When the user's login at the framework expires, ms since the Unix epoch.
    pub expiration_ms: Option<i64>,
    /// The framework's error while asking for the provider, if any.
    pub provider_error: Option<PartnerFrameworkError>,
}

/// Why a partner framework status cannot create a profile (checked on the device before any
/// request, as the partner flow asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartnerStatusProblem {
    /// The user has not granted access.
    NotGranted(PartnerAccessStatus),
    /// The framework names no provider.
    NoProvider,
    /// The framework gives no expiration date for the provider login. The header's page makes
    /// `frameworkProviderInfo.expirationDate` required, so the SDK never sends a status without
    /// it (Apple: request `includeAuthenticationExpirationDate`).
    NoExpiration,
    /// The provider login has expired.
    Expired,
}

impl std::fmt::Display for PartnerStatusProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotGranted(s) => write!(f, "access status is {}, not granted", s.as_str()),
            Self::NoProvider => f.write_str("no provider id"),
            Self::NoExpiration => f.write_str("no expiration date for the provider login"),
            Self::Expired => f.write_str("the provider login has expired"),
        }
    }
}

impl PartnerFrameworkStatus {
    /// A status for a user who granted access and is logged in with `provider_id` until
    /// `expiration_ms` (ms since the Unix epoch; the header requires it).
    pub fn granted(provider_id: impl Into<String>, expiration_ms: i64) -> Self {
        Self {
            access_status: PartnerAccessStatus::Granted,
            access_error: None,
            provider_id: Some(provider_id.into()),
            expiration_ms: Some(expiration_ms),
            provider_error: None,
        }
    }

    /// A status without provider information (access not granted, or no login at the
    /// framework).
    pub fn without_provider(access_status: PartnerAccessStatus) -> Self {
        Self {
            access_status,
            access_error: None,
            provider_id: None,
            expiration_ms: None,
            provider_error: None,
        }
    }

    /// The first reason this status cannot create a profile at `now_ms`, if any.
    pub fn problem(&self, now_ms: i64) -> Option<PartnerStatusProblem> {
        if self.access_status != PartnerAccessStatus::Granted {
            return Some(PartnerStatusProblem::NotGranted(self.access_status));
        }
        if self
            .provider_id
            .as_deref()
            .is_none_or(|p| p.trim().is_empty())
        {
            return Some(PartnerStatusProblem::NoProvider);
        }
        match self.expiration_ms {
            None => Some(PartnerStatusProblem::NoExpiration),
            Some(t) if t <= now_ms => Some(PartnerStatusProblem::Expired),
            Some(_) => None,
        }
    }

    /// Whether the status names a provider without the expiration date the header requires:
    /// such a status is never sent.
    pub fn lacks_expiration(&self) -> bool {
        self.provider_id.is_some() && self.expiration_ms.is_none()
    }

    /// The JSON document of the header.
    pub fn to_json(&self) -> Value {
        fn error(e: &PartnerFrameworkError) -> Value {
            json!({ "code": e.code, "message": e.message })
        }
        let mut permission = Map::new();
        permission.insert("accessStatus".into(), json!(self.access_status.as_str()));
        if let Some(e) = &self.access_error {
            permission.insert("error".into(), error(e));
        }
        let mut provider = Map::new();
        if let Some(id) = &self.provider_id {
            provider.insert("id".into(), json!(id));
        }
        if let Some(t) = self.expiration_ms {
            // A string of milliseconds, as the header page defines it.
            provider.insert("expirationDate".into(), json!(t.to_string()));
        }
        if let Some(e) = &self.provider_error {
            provider.insert("error".into(), error(e));
        }
        json!({
            "frameworkPermissionInfo": permission,
            "frameworkProviderInfo": provider,
        })
    }

    /// The `AP-Partner-Framework-Status` header value: the Base64-encoded JSON document.
    pub fn header_value(&self) -> String {
        STANDARD.encode(self.to_json().to_string())
    }
}

/// The platform identity of the platform identity single sign-on method.
#[derive(Clone, PartialEq, Eq)]
pub enum PlatformIdentity {
    /// `Adobe-Subject-Token`: the JWS or JWE the platform's identity service gives (Amazon
    /// Fire TV's SSO library).
    AdobeSubjectToken(Secret),
    /// `X-Roku-Reserved-Roku-Connect-Token`: Roku's platform identity.
    RokuConnectToken(Secret),
}

impl std::fmt::Debug for PlatformIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AdobeSubjectToken(_) => f.write_str("AdobeSubjectToken(***)"),
            Self::RokuConnectToken(_) => f.write_str("RokuConnectToken(***)"),
        }
    }
}

impl PlatformIdentity {
    /// An `Adobe-Subject-Token` identity.
    pub fn adobe_subject_token(token: impl Into<String>) -> Self {
        Self::AdobeSubjectToken(Secret::new(token))
    }

    /// A Roku connect token identity.
    pub fn roku_connect_token(token: impl Into<String>) -> Self {
        Self::RokuConnectToken(Secret::new(token))
    }

    fn header(&self) -> (&'static str, &Secret) {
        match self {
            Self::AdobeSubjectToken(t) => ("adobe-subject-token", t),
            Self::RokuConnectToken(t) => ("x-roku-reserved-roku-connect-token", t),
        }
    }
}

/// Whom the single sign-on identities name, as digests (never a token or a subject itself): a
/// fresh token for the same subject keeps its key, another subject changes it. The profiles an
/// identity brings (`platformSSO`, `serviceTokenSSO`, `appleSSO`) are valid only while its key
/// stays the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IdentityKeys {
    platform: Option<String>,
    service_token: Option<String>,
    partner: Option<String>,
}

impl IdentityKeys {
    /// The three digests (platform identity, service token, partner), for packing.
    #[cfg(feature = "service")]
    pub fn parts(&self) -> [Option<&str>; 3] {
        [
            self.platform.as_deref(),
            self.service_token.as_deref(),
            self.partner.as_deref(),
        ]
    }

    /// The keys from their [`parts`](Self::parts).
    #[cfg(feature = "service")]
    pub fn from_parts([platform, service_token, partner]: [Option<String>; 3]) -> Self {
        Self {
            platform,
            service_token,
            partner,
        }
    }

    /// Whether any identity is set.
    pub fn any(&self) -> bool {
        self.platform.is_some() || self.service_token.is_some() || self.partner.is_some()
    }

    /// Whether `self` and `other` name the same platform identity and service token subjects
    /// (the partner provider aside).
    pub fn same_but_partner(&self, other: &Self) -> bool {
        self.platform == other.platform && self.service_token == other.service_token
    }

    /// The profile types brought by the identities that differ between `self` and `other`.
    pub fn changed(&self, other: &Self) -> Vec<crate::model::ProfileType> {
        use crate::model::ProfileType;
        let mut out = Vec::new();
        if self.platform != other.platform {
            out.push(ProfileType::PlatformSso);
        }
        if self.service_token != other.service_token {
            out.push(ProfileType::ServiceTokenSso);
        }
        if self.partner != other.partner {
            out.push(ProfileType::AppleSso);
        }
        out
    }
}

fn digest(text: &str) -> String {
    crate::digest::sha256_hex(text)
}

/// The key of a token: its JWS `sub` claim where it is a JWS with one (Amazon's subject token, a
/// service token), else the whole token (Roku's connect token is opaque).
fn token_key(kind: &str, token: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let subject = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("sub").and_then(Value::as_str).map(str::to_string));
    match subject {
        Some(sub) => digest(&format!("{kind}\nsub\n{sub}")),
        None => digest(&format!("{kind}\ntoken\n{token}")),
    }
}

/// The single sign-on identities of a client, as ready header values (all marked sensitive, so
/// that no `Debug` output shows them).
#[derive(Debug, Clone, Default)]
pub(crate) struct SsoHeaders {
    /// Platform identity or service token: sessions, profiles, decisions, logout.
    pub identity: HeaderMap,
    /// `AP-Partner-Framework-Status`: partner calls, profiles, decisions.
    pub partner_status: Option<HeaderValue>,
    /// `AP-Visitor-Identifier`: every session, profile, partner, decision and logout call.
    pub visitor: Option<HeaderValue>,
    /// Whom the identities name.
    pub keys: IdentityKeys,
}

/// Which single sign-on headers a call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SsoScope {
    pub identity: bool,
    pub partner_status: bool,
    pub visitor: bool,
}

impl SsoScope {
    /// Configuration, DCR, TempPass reset: none.
    pub const NONE: Self = Self {
        identity: false,
        partner_status: false,
        visitor: false,
    };
    /// Resume, session information, profile by code: the visitor only.
    pub const VISITOR: Self = Self {
        identity: false,
        partner_status: false,
        visitor: true,
    };
    /// Session creation and logout: identities and visitor.
    pub const IDENTITY: Self = Self {
        identity: true,
        partner_status: false,
        visitor: true,
    };
    /// Profiles (all, by MVPD) and decisions: everything.
    pub const ALL: Self = Self {
        identity: true,
        partner_status: true,
        visitor: true,
    };
    /// The partner APIs: framework status and visitor.
    pub const PARTNER: Self = Self {
        identity: false,
        partner_status: true,
        visitor: true,
    };
}

/// A header value that never shows in `Debug`; an error naming `setting` when it is not valid
/// header text.
pub(crate) fn sensitive_value(
    setting: &'static str,
    value: &str,
) -> Result<HeaderValue, PassError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 16 * 1024 {
        return Err(PassError::config(setting, "must be 1 to 16384 characters"));
    }
    let mut h = HeaderValue::from_str(v)
        .map_err(|_| PassError::config(setting, "must be printable header text"))?;
    h.set_sensitive(true);
    Ok(h)
}

impl SsoHeaders {
    pub fn set_platform_identity(
        &mut self,
        identity: Option<&PlatformIdentity>,
    ) -> Result<(), PassError> {
        let value = identity
            .map(|i| {
                let (name, token) = i.header();
                sensitive_value("platform_identity", token.expose()).map(|v| (name, v))
            })
            .transpose()?;
        self.identity.remove("adobe-subject-token");
        self.identity.remove("x-roku-reserved-roku-connect-token");
        self.keys.platform = None;
        if let (Some((name, v)), Some(i)) = (value, identity) {
            self.identity.insert(HeaderName::from_static(name), v);
            self.keys.platform = Some(token_key(name, i.header().1.expose()));
        }
        Ok(())
    }

    pub fn set_service_token(&mut self, token: Option<&str>) -> Result<(), PassError> {
        let value = token
            .map(|t| sensitive_value("service_token", t))
            .transpose()?;
        self.identity.remove("ad-service-token");
        self.keys.service_token = None;
        if let (Some(v), Some(t)) = (value, token) {
            self.identity
                .insert(HeaderName::from_static("ad-service-token"), v);
            self.keys.service_token = Some(token_key("ad-service-token", t.trim()));
        }
        Ok(())
    }

    pub fn set_visitor(&mut self, visitor: Option<&str>) -> Result<(), PassError> {
        self.visitor = visitor
            .map(|t| sensitive_value("visitor_id", t))
            .transpose()?;
        Ok(())
    }

    pub fn set_partner_status(&mut self, status: Option<&PartnerFrameworkStatus>) {
        self.partner_status = status.and_then(|s| {
            let mut v = HeaderValue::from_str(&s.header_value()).ok()?;
            v.set_sensitive(true);
            Some(v)
        });
        // The provider the user is logged in with at the framework, while access is granted.
        self.keys.partner = status
            .filter(|s| s.access_status == PartnerAccessStatus::Granted)
            .and_then(|s| s.provider_id.as_deref())
            .map(|p| digest(&format!("partner\n{p}")));
    }

    pub fn is_empty(&self) -> bool {
        self.identity.is_empty() && self.partner_status.is_none() && self.visitor.is_none()
    }

    /// Adds the headers of `scope` to a request's headers.
    pub fn apply(&self, scope: SsoScope, headers: &mut HeaderMap) {
        if scope.identity {
            for (k, v) in &self.identity {
                headers.insert(k.clone(), v.clone());
            }
        }
        if scope.partner_status {
            if let Some(v) = &self.partner_status {
                headers.insert(
                    HeaderName::from_static("ap-partner-framework-status"),
                    v.clone(),
                );
            }
        }
        if scope.visitor {
            if let Some(v) = &self.visitor {
                headers.insert(HeaderName::from_static("ap-visitor-identifier"), v.clone());
            }
        }
    }
}

/// Normalises a SAML response as the partner framework hands it over (runs of spaces and tabs
/// become one space, line breaks go, ends trimmed) and Base64-encodes it for `SAMLResponse`.
pub(crate) fn encode_saml_response(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_blank = false;
    for c in raw.chars() {
        match c {
            '\r' | '\n' => {}
            ' ' | '\t' => {
                if !in_blank {
                    out.push(' ');
                }
                in_blank = true;
                continue;
            }
            c => out.push(c),
        }
        in_blank = false;
    }
    STANDARD.encode(out.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saml_responses_are_normalised_like_the_apple_cookbook() {
        let raw = "  <samlp:Response\n\tID=\"_1\"   InResponseTo=\"_2\">\r\n    <x>a  b</x>\n</samlp:Response>\n";
        let encoded = encode_saml_response(raw);
        let text = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        // Runs of spaces and tabs become one space, line breaks go, the ends are trimmed.
        assert_eq!(
            text,
            "<samlp:Response ID=\"_1\" InResponseTo=\"_2\"> <x>a b</x></samlp:Response>"
        );
    }

    #[test]
    fn header_values_are_sensitive_and_checked() {
        let v = sensitive_value("visitor_id", " ecid ").unwrap();
        assert!(v.is_sensitive());
        assert_eq!(v.to_str().unwrap(), "ecid");
        assert!(sensitive_value("visitor_id", "a\u{7f}b").is_err());
        assert!(sensitive_value("visitor_id", &"x".repeat(20_000)).is_err());
        let mut h = SsoHeaders::default();
        h.set_platform_identity(Some(&PlatformIdentity::roku_connect_token("t1")))
            .unwrap();
        h.set_platform_identity(Some(&PlatformIdentity::adobe_subject_token("t2")))
            .unwrap();
        let mut out = HeaderMap::new();
        h.apply(SsoScope::ALL, &mut out);
        assert_eq!(out.len(), 1, "one platform identity at a time");
        assert_eq!(out["adobe-subject-token"], "t2");
        assert!(format!("{out:?}").find("t2").is_none());
    }
}
