//! The records of configuration, sessions and profiles (MVPDs, sessions, TempPass information,
//! attributes, profile types), with their conversions from and to the core's.

use super::core;
use super::sso::PartnerAuthenticationRequest;
use std::collections::HashMap;

/// An MVPD.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Mvpd {
    /// Id.
    pub id: String,
    /// Name to show.
    pub display_name: String,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// TempPass pseudo-MVPD.
    pub is_temp_pass: bool,
    /// Proxied MVPD.
    #[uniffi(default = false)]
    pub is_proxy: bool,
    /// The id the streaming platform knows the MVPD by (Apple's account provider identifier).
    #[uniffi(default = None)]
    pub platform_mapping_id: Option<String>,
    /// Platform onboarding: `SUPPORTED`, `PICKER`, or another value.
    #[uniffi(default = None)]
    pub boarding_status: Option<String>,
    /// Enabled for the platform's single sign-on.
    #[uniffi(default = false)]
    pub enable_platform_services: bool,
    /// May be shown in the platform's picker.
    #[uniffi(default = false)]
    pub display_in_platform_picker: bool,
    /// The app must enforce the platform's user permissions.
    #[uniffi(default = false)]
    pub enforce_platform_permissions: bool,
}

impl From<&core::Mvpd> for Mvpd {
    fn from(m: &core::Mvpd) -> Self {
        Self {
            id: m.id.clone(),
            display_name: m.display_name.clone(),
            logo_url: m.logo_url.clone(),
            is_temp_pass: m.is_temp_pass,
            is_proxy: m.is_proxy,
            platform_mapping_id: m.platform_mapping_id.clone(),
            boarding_status: m.boarding_status.as_ref().map(|b| match b {
                core::BoardingStatus::Supported => "SUPPORTED".to_string(),
                core::BoardingStatus::Picker => "PICKER".to_string(),
                core::BoardingStatus::Other(o) => o.clone(),
            }),
            enable_platform_services: m.enable_platform_services,
            display_in_platform_picker: m.display_in_platform_picker,
            enforce_platform_permissions: m.enforce_platform_permissions,
        }
    }
}

impl From<&Mvpd> for core::Mvpd {
    fn from(m: &Mvpd) -> Self {
        Self {
            id: m.id.clone(),
            display_name: m.display_name.clone(),
            logo_url: m.logo_url.clone(),
            is_temp_pass: m.is_temp_pass,
            is_proxy: m.is_proxy,
            platform_mapping_id: m.platform_mapping_id.clone(),
            boarding_status: m
                .boarding_status
                .as_deref()
                .map(core::BoardingStatus::from_wire),
            enable_platform_services: m.enable_platform_services,
            display_in_platform_picker: m.display_in_platform_picker,
            enforce_platform_permissions: m.enforce_platform_permissions,
        }
    }
}

/// The configuration.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Configuration {
    /// Service provider id.
    pub service_provider: String,
    /// Service provider name.
    pub name: String,
    /// Every MVPD.
    pub mvpds: Vec<Mvpd>,
    /// The MVPDs for a provider picker (no TempPass, no test MVPDs).
    pub picker_mvpds: Vec<Mvpd>,
    /// Provider ids for the platform's own picker (Apple's
    /// `supportedAccountProviderIdentifiers`).
    pub platform_picker_ids: Vec<String>,
}

/// What to do next with a session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SessionAction {
    /// Open the URL / show the code.
    Authenticate,
    /// Provide missing parameters.
    Resume,
    /// Go to decisions.
    Authorize,
    /// Partner single sign-on: hand `authenticationRequest` to the partner framework.
    PartnerProfile,
    /// Unknown action.
    Other {
        /// The action name.
        name: String,
    },
}

/// An authentication session.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Session {
    /// What to do next.
    pub action: SessionAction,
    /// Why (`none`, `authenticated`, `temporary`, `degraded`, ...).
    pub reason: String,
    /// The code to show and poll with.
    pub code: Option<String>,
    /// Tracking id.
    pub session_id: String,
    /// MVPD.
    pub mvpd: Option<String>,
    /// Absolute URL to open or call.
    pub url: Option<String>,
    /// Missing parameters.
    pub missing_parameters: Vec<String>,
    /// Validity start, ms since the epoch.
    pub not_before_ms: Option<i64>,
    /// Expiry, ms since the epoch.
    pub not_after_ms: Option<i64>,
    /// Partner single sign-on: the request for the partner framework.
    #[uniffi(default = None)]
    pub authentication_request: Option<PartnerAuthenticationRequest>,
}

impl From<core::Session> for Session {
    fn from(s: core::Session) -> Self {
        Self {
            action: match s.action {
                core::SessionAction::Authenticate => SessionAction::Authenticate,
                core::SessionAction::Resume => SessionAction::Resume,
                core::SessionAction::Authorize => SessionAction::Authorize,
                core::SessionAction::PartnerProfile => SessionAction::PartnerProfile,
                core::SessionAction::Other(name) => SessionAction::Other { name },
            },
            reason: match s.reason {
                core::SessionReason::None => "none".into(),
                core::SessionReason::Authenticated => "authenticated".into(),
                core::SessionReason::Temporary => "temporary".into(),
                core::SessionReason::Degraded => "degraded".into(),
                core::SessionReason::AuthenticatedSso => "authenticatedSSO".into(),
                core::SessionReason::PartnerStatusFallback => "pfs_fallback".into(),
                core::SessionReason::ConfigurationFallback => "configuration_fallback".into(),
                core::SessionReason::MissingParametersFallback => {
                    "missing_parameters_fallback".into()
                }
                core::SessionReason::Other(o) => o,
            },
            code: s.code,
            session_id: s.session_id,
            mvpd: s.mvpd,
            url: s.url,
            missing_parameters: s.missing_parameters,
            not_before_ms: s.not_before_ms,
            not_after_ms: s.not_after_ms,
            authentication_request: s.authentication_request.map(|r| {
                PartnerAuthenticationRequest {
                    protocol: r.protocol,
                    request: r.request,
                    attribute_names: r.attribute_names,
                }
            }),
        }
    }
}

impl From<&Session> for core::Session {
    fn from(s: &Session) -> Self {
        Self {
            action: match &s.action {
                SessionAction::Authenticate => core::SessionAction::Authenticate,
                SessionAction::Resume => core::SessionAction::Resume,
                SessionAction::Authorize => core::SessionAction::Authorize,
                SessionAction::PartnerProfile => core::SessionAction::PartnerProfile,
                SessionAction::Other { name } => core::SessionAction::Other(name.clone()),
            },
            reason: core::SessionReason::Other(s.reason.clone()),
            code: s.code.clone(),
            session_id: s.session_id.clone(),
            mvpd: s.mvpd.clone(),
            url: s.url.clone(),
            missing_parameters: s.missing_parameters.clone(),
            not_before_ms: s.not_before_ms,
            not_after_ms: s.not_after_ms,
            authentication_request: s.authentication_request.as_ref().map(|r| {
                core::PartnerAuthenticationRequest {
                    protocol: r.protocol.clone(),
                    request: r.request.clone(),
                    attribute_names: r.attribute_names.clone(),
                }
            }),
        }
    }
}

/// TempPass metadata.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TempPassInfo {
    /// End of the TempPass, ms since the epoch.
    pub expiration_ms: Option<i64>,
    /// Resources left (promotional).
    pub remaining_resources: Option<u32>,
    /// Resources used (promotional).
    pub used_assets: Vec<String>,
}

impl From<core::TempPassInfo> for TempPassInfo {
    fn from(t: core::TempPassInfo) -> Self {
        Self {
            expiration_ms: t.expiration_ms,
            remaining_resources: t.remaining_resources,
            used_assets: t.used_assets,
        }
    }
}

/// A user metadata attribute. Its value never prints (user identifiers).
#[derive(Clone, uniffi::Record)]
pub struct Attribute {
    /// Value (JSON text for lists and maps).
    pub value: super::config::SecretText,
    /// Encrypted value.
    pub encrypted: bool,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::model::debug_attribute(f, &self.value.0, self.encrypted)
    }
}

/// The type of a profile.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ProfileType {
    /// Basic authentication with an MVPD.
    Regular,
    /// Degraded access.
    Degraded,
    /// TempPass.
    Temporary,
    /// Partner single sign-on with Apple.
    AppleSso,
    /// Platform identity single sign-on.
    PlatformSso,
    /// Service token single sign-on.
    ServiceTokenSso,
    /// A type this SDK does not know.
    Other {
        /// The service's value.
        name: String,
    },
}

/// A profile.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Profile {
    /// MVPD.
    pub mvpd: String,
    /// Validity start, ms since the epoch.
    pub not_before_ms: i64,
    /// Validity end, ms since the epoch.
    pub not_after_ms: i64,
    /// Issuer.
    pub issuer: String,
    /// Regular, degraded, temporary, or a single sign-on type.
    pub profile_type: ProfileType,
    /// User metadata.
    pub attributes: HashMap<String, Attribute>,
    /// TempPass metadata of temporary profiles.
    pub temp_pass: Option<TempPassInfo>,
}

impl From<core::Profile> for Profile {
    fn from(p: core::Profile) -> Self {
        Self {
            profile_type: match p.profile_type {
                core::ProfileType::Regular => ProfileType::Regular,
                core::ProfileType::Degraded => ProfileType::Degraded,
                core::ProfileType::Temporary => ProfileType::Temporary,
                core::ProfileType::AppleSso => ProfileType::AppleSso,
                core::ProfileType::PlatformSso => ProfileType::PlatformSso,
                core::ProfileType::ServiceTokenSso => ProfileType::ServiceTokenSso,
                core::ProfileType::Other(name) => ProfileType::Other { name },
            },
            mvpd: p.mvpd,
            not_before_ms: p.not_before_ms,
            not_after_ms: p.not_after_ms,
            issuer: p.issuer,
            attributes: p
                .attributes
                .into_iter()
                .map(|(k, a)| {
                    (
                        k,
                        Attribute {
                            value: a.value.into(),
                            encrypted: a.encrypted,
                        },
                    )
                })
                .collect(),
            temp_pass: p.temp_pass.map(Into::into),
        }
    }
}
