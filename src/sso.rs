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
    /// The provider login has expired.
    Expired,
}

impl std::fmt::Display for PartnerStatusProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotGranted(s) => write!(f, "access status is {}, not granted", s.as_str()),
            Self::NoProvider => f.write_str("no provider id"),
            Self::Expired => f.write_str("the provider login has expired"),
        }
    }
}

impl PartnerFrameworkStatus {
    /// A status for a user who granted access and is logged in with `provider_id` until
    /// `expiration_ms`.
    pub fn granted(provider_id: impl Into<String>, expiration_ms: Option<i64>) -> Self {
        Self {
            access_status: PartnerAccessStatus::Granted,
            access_error: None,
            provider_id: Some(provider_id.into()),
            expiration_ms,
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
        if self.expiration_ms.is_some_and(|t| t <= now_ms) {
            return Some(PartnerStatusProblem::Expired);
        }
        None
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
        if let Some((name, v)) = value {
            self.identity.insert(HeaderName::from_static(name), v);
        }
        Ok(())
    }

    pub fn set_service_token(&mut self, token: Option<&str>) -> Result<(), PassError> {
        let value = token
            .map(|t| sensitive_value("service_token", t))
            .transpose()?;
        self.identity.remove("ad-service-token");
        if let Some(v) = value {
            self.identity
                .insert(HeaderName::from_static("ad-service-token"), v);
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
