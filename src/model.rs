//! The public domain types: small, documented, stable. Wire formats stay private to the API
//! modules.

use crate::error::EnhancedError;
use crate::secret::Secret;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// An MVPD (TV provider) as the configuration lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mvpd {
    /// Identifier used in API paths.
    pub id: String,
    /// Brand name to show.
    pub display_name: String,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// A TempPass pseudo-MVPD.
    pub is_temp_pass: bool,
    /// A proxied MVPD.
    #[serde(default)]
    pub is_proxy: bool,
    /// The id the streaming platform knows the MVPD by (Apple's account provider identifier):
    /// map a partner framework's provider id back to the MVPD with
    /// [`Configuration::mvpd_for_platform_id`].
    #[serde(default)]
    pub platform_mapping_id: Option<String>,
    /// Whether the MVPD is onboarded for the platform's single sign-on.
    #[serde(default)]
    pub boarding_status: Option<BoardingStatus>,
    /// The MVPD's configuration is enabled for the platform's single sign-on flows.
    #[serde(default)]
    pub enable_platform_services: bool,
    /// The MVPD may be shown in the platform's provider picker.
    #[serde(default)]
    pub display_in_platform_picker: bool,
    /// The app must enforce the user permissions the platform reports.
    #[serde(default)]
    pub enforce_platform_permissions: bool,
}

impl Mvpd {
    /// Whether partner single sign-on can log in with this MVPD (onboarded and enabled).
    pub fn supports_platform_sso(&self) -> bool {
        self.enable_platform_services && self.boarding_status == Some(BoardingStatus::Supported)
    }
}

/// An MVPD's onboarding with the streaming platform (`boardingStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoardingStatus {
    /// `SUPPORTED`: single sign-on with the platform works for the MVPD.
    Supported,
    /// `PICKER`: the MVPD only appears in the platform's picker; log in with the basic flow.
    Picker,
    /// A value this SDK does not know.
    Other(String),
}

impl BoardingStatus {
    /// The status for the configuration's value.
    pub fn from_wire(value: &str) -> Self {
        match value {
            "SUPPORTED" => Self::Supported,
            "PICKER" => Self::Picker,
            other => Self::Other(other.to_string()),
        }
    }
}

/// The service provider's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// Service provider id.
    pub service_provider: String,
    /// Service provider name.
    pub name: String,
    /// Every MVPD, TempPass ones included.
    pub mvpds: Vec<Mvpd>,
}

impl Configuration {
    /// The MVPDs to show in a provider picker: no TempPass pseudo-MVPDs and no test MVPDs
    /// (an id or name with the word "test").
    pub fn picker_mvpds(&self) -> Vec<&Mvpd> {
        fn has_test_word(s: &str) -> bool {
            s.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w.eq_ignore_ascii_case("test"))
                || s.starts_with("Test")
                || s.starts_with("test")
        }
        self.mvpds
            .iter()
            .filter(|m| !m.is_temp_pass && !has_test_word(&m.id) && !has_test_word(&m.display_name))
            .collect()
    }

    /// The MVPD with this id.
    pub fn mvpd(&self, id: &str) -> Option<&Mvpd> {
        self.mvpds.iter().find(|m| m.id == id)
    }

    /// The MVPD the platform knows by this provider id (a partner framework's provider id).
    pub fn mvpd_for_platform_id(&self, platform_id: &str) -> Option<&Mvpd> {
        self.mvpds
            .iter()
            .find(|m| m.platform_mapping_id.as_deref() == Some(platform_id))
    }

    /// The platform provider ids to offer in the platform's own picker (Apple's
    /// `supportedAccountProviderIdentifiers`): MVPDs marked for the platform picker.
    pub fn platform_picker_ids(&self) -> Vec<&str> {
        self.mvpds
            .iter()
            .filter(|m| m.display_in_platform_picker)
            .filter_map(|m| m.platform_mapping_id.as_deref())
            .collect()
    }
}

/// What the app must do next with an authentication session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAction {
    /// Open `url` in a user agent (this screen or a second screen with the code).
    Authenticate,
    /// Provide the missing parameters and resume the session.
    Resume,
    /// Already authenticated (or TempPass, or degraded): go straight to decisions.
    Authorize,
    /// Partner single sign-on can proceed: give [`Session::authentication_request`] to the
    /// partner framework, then its answer to [`crate::PassClient::partner_profile`].
    PartnerProfile,
    /// An action this SDK does not know.
    Other(String),
}

/// Why the session answered as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionReason {
    /// The user must authenticate.
    None,
    /// A regular profile exists.
    Authenticated,
    /// TempPass applies.
    Temporary,
    /// Degradation applies.
    Degraded,
    /// Single sign-on applies.
    AuthenticatedSso,
    /// Partner single sign-on fell back to the basic flow: the partner framework status was
    /// missing or invalid (`pfs_fallback`).
    PartnerStatusFallback,
    /// Partner single sign-on fell back to the basic flow: it is not configured for this
    /// integration (`configuration_fallback`).
    ConfigurationFallback,
    /// Partner single sign-on fell back to resuming the session: parameters are missing
    /// (`missing_parameters_fallback`).
    MissingParametersFallback,
    /// A reason this SDK does not know.
    Other(String),
}

/// An authentication session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// What to do next.
    pub action: SessionAction,
    /// Why.
    pub reason: SessionReason,
    /// The code to show on a second screen and to poll with; absent when no login is needed.
    pub code: Option<String>,
    /// Opaque id for tracking.
    pub session_id: String,
    /// The MVPD, when known.
    pub mvpd: Option<String>,
    /// The absolute URL to open (authenticate) or call (resume/authorize), when given.
    pub url: Option<String>,
    /// Parameters still missing.
    pub missing_parameters: Vec<String>,
    /// Validity of the code, in milliseconds since the Unix epoch.
    pub not_before_ms: Option<i64>,
    /// Expiry of the code, in milliseconds since the Unix epoch.
    pub not_after_ms: Option<i64>,
    /// Partner single sign-on: the request for the partner framework (with
    /// [`SessionAction::PartnerProfile`]).
    pub authentication_request: Option<PartnerAuthenticationRequest>,
}

/// The partner authentication request to hand to the partner framework (for Apple:
/// `VSAccountMetadataRequest.verificationToken` and `attributeNames`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerAuthenticationRequest {
    /// The protocol (`saml`).
    pub protocol: String,
    /// The request (a Base64-encoded SAML request).
    pub request: String,
    /// The user metadata attributes to ask for.
    pub attribute_names: Vec<String>,
}

/// The type of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileType {
    /// Regular authentication with an MVPD.
    Regular,
    /// Degraded access.
    Degraded,
    /// TempPass.
    Temporary,
    /// Single sign-on with partner Apple (`appleSSO`).
    AppleSso,
    /// Single sign-on with a platform identity (`platformSSO`).
    PlatformSso,
    /// Single sign-on with a service token (`serviceTokenSSO`).
    ServiceTokenSso,
    /// A type this SDK does not know.
    Other(String),
}

impl ProfileType {
    /// The type for the service's value.
    pub fn from_wire(value: &str) -> Self {
        match value {
            "regular" => Self::Regular,
            "degraded" => Self::Degraded,
            "temporary" => Self::Temporary,
            "appleSSO" => Self::AppleSso,
            "platformSSO" => Self::PlatformSso,
            "serviceTokenSSO" => Self::ServiceTokenSso,
            other => Self::Other(other.to_string()),
        }
    }

    /// Whether the profile came from a single sign-on flow.
    pub fn is_single_sign_on(&self) -> bool {
        matches!(
            self,
            Self::AppleSso | Self::PlatformSso | Self::ServiceTokenSso
        )
    }
}

/// One user metadata attribute. Its `Debug` form leaves the value out: attributes carry user
/// identifiers (`userID`, `householdID`, ...), which never go to logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// The value: strings as they are, numbers, lists and maps as JSON text.
    pub value: String,
    /// Whether the value is encrypted (`state: enc`).
    pub encrypted: bool,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        debug_attribute(f, &self.value, self.encrypted)
    }
}

/// The `Debug` form of an attribute, here and in the FFI's record: its value's length only.
pub(crate) fn debug_attribute(
    f: &mut std::fmt::Formatter<'_>,
    value: &str,
    encrypted: bool,
) -> std::fmt::Result {
    f.debug_struct("Attribute")
        .field("value", &format_args!("<{} bytes>", value.len()))
        .field("encrypted", &encrypted)
        .finish()
}

/// TempPass metadata of a temporary profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TempPassInfo {
    /// When the TempPass ends, in milliseconds since the Unix epoch.
    pub expiration_ms: Option<i64>,
    /// Promotional TempPass: resources still available.
    pub remaining_resources: Option<u32>,
    /// Promotional TempPass: resources already used.
    pub used_assets: Vec<String>,
}

/// An authenticated profile for one MVPD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The MVPD.
    pub mvpd: String,
    /// Start of validity, ms since the Unix epoch.
    pub not_before_ms: i64,
    /// End of validity, ms since the Unix epoch.
    pub not_after_ms: i64,
    /// Who issued it (the MVPD, `Adobe`, or the partner such as `Apple`).
    pub issuer: String,
    /// Regular, degraded, temporary, or one of the single sign-on types.
    pub profile_type: ProfileType,
    /// User metadata by name.
    pub attributes: BTreeMap<String, Attribute>,
    /// TempPass metadata, for temporary profiles.
    pub temp_pass: Option<TempPassInfo>,
}

impl Profile {
    /// Whether it is valid at `now_ms`.
    pub fn is_valid_at(&self, now_ms: i64) -> bool {
        self.not_before_ms <= now_ms && now_ms < self.not_after_ms
    }
}

/// Where a decision came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionSource {
    /// The MVPD's authorization endpoint.
    Mvpd,
    /// Degraded access.
    Degradation,
    /// TempPass.
    TempPass,
    /// The dummy authorization feature.
    Dummy,
    /// A source this SDK does not know.
    Other(String),
}

/// A media token: give it to the player / media token verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaToken {
    /// The serialized (base64) token. Never logged.
    pub serialized: Secret,
    /// Start of validity, ms since the Unix epoch.
    pub not_before_ms: i64,
    /// End of validity, ms since the Unix epoch. A token expiring during playback does not stop
    /// the stream; the next playback asks again.
    pub not_after_ms: i64,
}

impl std::fmt::Debug for MediaToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaToken")
            .field("serialized", &self.serialized)
            .field("not_before_ms", &self.not_before_ms)
            .field("not_after_ms", &self.not_after_ms)
            .finish()
    }
}

/// Why a resource was denied. Each keeps the server's enhanced error in the [`Decision`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// `authorization_denied_by_mvpd`.
    DeniedByMvpd,
    /// `preauthorization_denied_by_mvpd`.
    PreauthorizationDeniedByMvpd,
    /// `authorization_denied_by_parental_controls`.
    ParentalControls,
    /// `authorization_denied_by_degradation_rule`.
    DegradationRule,
    /// `temporary_access_duration_limit_exceeded`: the TempPass is over; ask the user to log in
    /// with a regular MVPD.
    TempPassDurationExceeded,
    /// `temporary_access_resources_limit_exceeded`.
    TempPassResourcesExceeded,
    /// `invalid_header_identity_for_temporary_access`.
    TempPassIdentityInvalid,
    /// `authenticated_profile_missing`: the user must log in.
    ProfileMissing,
    /// `authenticated_profile_expired`: the user must log in again.
    ProfileExpired,
    /// `authenticated_profile_invalidated`.
    ProfileInvalidated,
    /// `authorization_denied_by_hba_policies`.
    HbaPolicies,
    /// `authorization_denied_by_session_invalidated`.
    SessionInvalidated,
    /// `identity_not_recognized_by_mvpd`.
    IdentityNotRecognized,
    /// `network_received_error`, `network_connection_timeout`, `maximum_execution_time_exceeded`:
    /// the partner failed; asking again later may succeed.
    PartnerUnavailable,
    /// `invalid_configuration_*` or `too_many_resources`: the integration is misconfigured on
    /// the service's side; nothing the user can do (report `code` to the integration team).
    Misconfigured {
        /// The configuration code.
        code: String,
    },
    /// `invalid_header_pfs_*`: the partner framework status sent with the request is not
    /// usable (refresh it from the framework; see [`crate::ErrorCode`] for the exact problem).
    PartnerStatus {
        /// The `invalid_header_pfs_*` code.
        code: String,
    },
    /// Any other code (kept in the enhanced error).
    Other(String),
}

impl DenyReason {
    /// The reason for an enhanced error code.
    pub fn from_code(code: &str) -> Self {
        match code {
            "authorization_denied_by_mvpd" => Self::DeniedByMvpd,
            "preauthorization_denied_by_mvpd" => Self::PreauthorizationDeniedByMvpd,
            "authorization_denied_by_parental_controls" => Self::ParentalControls,
            "authorization_denied_by_degradation_rule" => Self::DegradationRule,
            "temporary_access_duration_limit_exceeded" => Self::TempPassDurationExceeded,
            "temporary_access_resources_limit_exceeded" => Self::TempPassResourcesExceeded,
            "invalid_header_identity_for_temporary_access" => Self::TempPassIdentityInvalid,
            "authenticated_profile_missing" => Self::ProfileMissing,
            "authenticated_profile_expired" => Self::ProfileExpired,
            "authenticated_profile_invalidated" => Self::ProfileInvalidated,
            "authorization_denied_by_hba_policies" => Self::HbaPolicies,
            "authorization_denied_by_session_invalidated" => Self::SessionInvalidated,
            "identity_not_recognized_by_mvpd" => Self::IdentityNotRecognized,
            "network_received_error"
            | "network_connection_timeout"
            | "maximum_execution_time_exceeded" => Self::PartnerUnavailable,
            c if c.starts_with("invalid_configuration_") || c == "too_many_resources" => {
                Self::Misconfigured {
                    code: c.to_string(),
                }
            }
            c if c.starts_with("invalid_header_pfs_") => Self::PartnerStatus {
                code: c.to_string(),
            },
            other => Self::Other(other.to_string()),
        }
    }

    /// Whether the user must (re)authenticate to get past it.
    pub fn needs_authentication(&self) -> bool {
        matches!(
            self,
            Self::ProfileMissing
                | Self::ProfileExpired
                | Self::ProfileInvalidated
                | Self::TempPassDurationExceeded
                | Self::TempPassResourcesExceeded
                | Self::HbaPolicies
                | Self::SessionInvalidated
                | Self::IdentityNotRecognized
        )
    }
}

/// The answer for one resource: Permit or Deny. A Deny is data, not an error: it is never
/// retried and never logs the user out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The resource may be played (authorize) or shown as available (preauthorize).
    Permit {
        /// The resource.
        resource: String,
        /// The MVPD.
        mvpd: String,
        /// Where the decision came from.
        source: DecisionSource,
        /// The media token (authorize only).
        media_token: Option<MediaToken>,
        /// Validity of the decision, ms since the Unix epoch.
        not_after_ms: Option<i64>,
    },
    /// The resource may not be played.
    Deny {
        /// The resource.
        resource: String,
        /// The MVPD.
        mvpd: String,
        /// Where the decision came from.
        source: DecisionSource,
        /// The typed reason.
        reason: DenyReason,
        /// The server's enhanced error: code, message to show, details, action, trace.
        error: EnhancedError,
    },
}

impl Decision {
    /// The resource decided on.
    pub fn resource(&self) -> &str {
        match self {
            Decision::Permit { resource, .. } | Decision::Deny { resource, .. } => resource,
        }
    }

    /// Whether it is a Permit.
    pub fn is_permit(&self) -> bool {
        matches!(self, Decision::Permit { .. })
    }
}

/// What the app must do to finish a logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutAction {
    /// Open `url` in a user agent to log out at the MVPD.
    OpenUrl {
        /// The MVPD logout URL.
        url: String,
    },
    /// Nothing more to do.
    Complete,
    /// Tell the user to log out at the platform (partner SSO) level too: the removed profile
    /// came from partner single sign-on (`partner_logout`, `partner_interactive`).
    PartnerLogout,
    /// There was no valid profile; nothing to do.
    NoProfile,
    /// An action this SDK does not know.
    Other(String),
}

/// Timestamps come as numbers of milliseconds or as strings of them.
pub(crate) fn de_opt_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ms {
        Int(i64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Ms>::deserialize(d)? {
        None => None,
        Some(Ms::Int(i)) => Some(i),
        Some(Ms::Float(f)) if f.is_finite() => Some(f as i64),
        Some(Ms::Float(_)) => None,
        Some(Ms::Text(s)) => s.trim().parse::<i64>().ok(),
    })
}
