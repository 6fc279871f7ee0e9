//! The uniffi layer for Swift and Kotlin (feature `ffi`). It adapts types and adds no logic:
//! every call goes to the Rust [`crate::PassClient`].
//!
//! Foreign names: `PassClient`, `ClientConfig`, `Storage` (implemented by the app),
//! `PollListener`, records and enums for every result, and `PassError` (Kotlin:
//! `PassException`, Swift: `PassError`).

// Errors cross the boundary by value as uniffi records; boxing them is not possible there.
#![allow(clippy::result_large_err)]

mod host;

pub use host::{
    blocking_transport, foreign_transport, set_logger, BlockingHttpTransport, CancelHook,
    HttpError, HttpHeader, HttpRequest, HttpRequestParts, HttpResponse, HttpTransport, LogLevel,
    Logger,
};

use crate as core;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Storage the app implements: the Keychain on Apple platforms (`KeychainStorage`), the Android
/// Keystore on Android (`KeystoreStorage`).
/// Return `null`/`nil` for a missing value; failures may be swallowed (the SDK starts over).
#[uniffi::export(with_foreign)]
pub trait Storage: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: String) -> Option<String>;
    /// Stores `value` under `key`.
    fn set(&self, key: String, value: String);
    /// Removes `key`.
    fn remove(&self, key: String);
}

struct StorageAdapter(Arc<dyn Storage>);

impl core::Storage for StorageAdapter {
    fn get(&self, key: &str) -> std::result::Result<Option<String>, core::StorageError> {
        Ok(self.0.get(key.to_string()))
    }
    fn set(&self, key: &str, value: &str) -> std::result::Result<(), core::StorageError> {
        self.0.set(key.to_string(), value.to_string());
        Ok(())
    }
    fn remove(&self, key: &str) -> std::result::Result<(), core::StorageError> {
        self.0.remove(key.to_string());
        Ok(())
    }
}

/// Progress of `awaitProfile`.
#[uniffi::export(with_foreign)]
pub trait PollListener: Send + Sync {
    /// Called after each poll that found no profile yet.
    fn on_poll(&self, polls: u32);
}

struct ListenerAdapter(Arc<dyn PollListener>);

impl core::PollObserver for ListenerAdapter {
    fn on_poll(&self, polls: u32) {
        self.0.on_poll(polls)
    }
}

/// What the device says about itself (`X-Device-Info`).
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct DeviceInfo {
    /// e.g. `SetTopBox`, `TV`, `MobilePhone`, `Tablet`.
    #[uniffi(default = None)]
    pub primary_hardware_type: Option<String>,
    /// Model.
    #[uniffi(default = None)]
    pub model: Option<String>,
    /// Device version.
    #[uniffi(default = None)]
    pub version: Option<String>,
    /// Manufacturer.
    #[uniffi(default = None)]
    pub manufacturer: Option<String>,
    /// Vendor.
    #[uniffi(default = None)]
    pub vendor: Option<String>,
    /// e.g. `tvOS`, `Android`.
    #[uniffi(default = None)]
    pub os_name: Option<String>,
    /// OS family.
    #[uniffi(default = None)]
    pub os_family: Option<String>,
    /// OS vendor.
    #[uniffi(default = None)]
    pub os_vendor: Option<String>,
    /// OS version.
    #[uniffi(default = None)]
    pub os_version: Option<String>,
    /// Screen width.
    #[uniffi(default = None)]
    pub display_width: Option<u32>,
    /// Screen height.
    #[uniffi(default = None)]
    pub display_height: Option<u32>,
    /// e.g. `WiFi`.
    #[uniffi(default = None)]
    pub connection_type: Option<String>,
    /// The app's identifier.
    #[uniffi(default = None)]
    pub application_id: Option<String>,
}

/// Settings of a client. Optional values take the SDK's defaults. Single sign-on tokens and the
/// visitor id are not settings: give them with `setSubjectToken`, `setRokuConnectToken`,
/// `setServiceToken` and `setVisitorId`, so that no generated `toString`/`description` of this
/// record can show them.
#[derive(Clone, uniffi::Record)]
pub struct ClientConfig {
    /// `https://api.auth.adobe.com`, `https://api.auth-staging.adobe.com`, or another base URL
    /// (plain http only for loopback).
    pub base_url: String,
    /// Service provider (requestor) id.
    pub service_provider: String,
    /// Software statement.
    pub software_statement: String,
    /// Device information.
    pub device_info: DeviceInfo,
    /// A stable device id from the platform; generated and stored when absent.
    #[uniffi(default = None)]
    pub device_id: Option<String>,
    /// Polling interval in seconds (3 to 5; default 3).
    #[uniffi(default = None)]
    pub polling_interval_seconds: Option<u32>,
    /// Most attempts per request (1 to 5; default 3).
    #[uniffi(default = None)]
    pub max_attempts: Option<u32>,
    /// Timeout of one request in milliseconds (default 10000).
    #[uniffi(default = None)]
    pub request_timeout_ms: Option<u64>,
    /// Client-side pacing to the service's limit (default true).
    #[uniffi(default = None)]
    pub pace_requests: Option<bool>,
    /// Domain sent when creating sessions.
    #[uniffi(default = None)]
    pub domain_name: Option<String>,
    /// Redirect URL after login and logout.
    #[uniffi(default = None)]
    pub redirect_url: Option<String>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("service_provider", &self.service_provider)
            .field("device_info", &self.device_info)
            .finish_non_exhaustive()
    }
}

/// The user's permission as the partner framework reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PartnerAccessStatus {
    /// Allowed.
    Granted,
    /// Denied by the user.
    Denied,
    /// Not allowed for the app.
    Restricted,
    /// Not chosen yet.
    NotDetermined,
}

/// An error the partner framework reported.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartnerFrameworkError {
    /// The framework's code.
    pub code: String,
    /// The framework's message.
    pub message: String,
}

/// The partner framework's status (`AP-Partner-Framework-Status`). On Apple platforms the Swift
/// package builds it from VideoSubscriberAccount's answers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartnerFrameworkStatus {
    /// The user's permission.
    pub access_status: PartnerAccessStatus,
    /// The provider id the framework knows the MVPD by (`Mvpd.platformMappingId`).
    #[uniffi(default = None)]
    pub provider_id: Option<String>,
    /// When the framework login expires, ms since the epoch.
    #[uniffi(default = None)]
    pub expiration_ms: Option<i64>,
    /// The framework's error while asking for the permission.
    #[uniffi(default = None)]
    pub access_error: Option<PartnerFrameworkError>,
    /// The framework's error while asking for the provider.
    #[uniffi(default = None)]
    pub provider_error: Option<PartnerFrameworkError>,
}

impl From<&PartnerFrameworkStatus> for core::PartnerFrameworkStatus {
    fn from(s: &PartnerFrameworkStatus) -> Self {
        let error = |e: &Option<PartnerFrameworkError>| {
            e.as_ref().map(|e| core::PartnerFrameworkError {
                code: e.code.clone(),
                message: e.message.clone(),
            })
        };
        Self {
            access_status: match s.access_status {
                PartnerAccessStatus::Granted => core::PartnerAccessStatus::Granted,
                PartnerAccessStatus::Denied => core::PartnerAccessStatus::Denied,
                PartnerAccessStatus::Restricted => core::PartnerAccessStatus::Restricted,
                PartnerAccessStatus::NotDetermined => core::PartnerAccessStatus::NotDetermined,
            },
            access_error: error(&s.access_error),
            provider_id: s.provider_id.clone(),
            expiration_ms: s.expiration_ms,
            provider_error: error(&s.provider_error),
        }
    }
}

/// The `AP-Partner-Framework-Status` header value of a status (Base64-encoded JSON).
#[uniffi::export]
pub fn partner_framework_status_header(status: PartnerFrameworkStatus) -> String {
    core::PartnerFrameworkStatus::from(&status).header_value()
}

/// The partner authentication request for the partner framework.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartnerAuthenticationRequest {
    /// `saml`.
    pub protocol: String,
    /// The request (Apple: `VSAccountMetadataRequest.verificationToken`).
    pub request: String,
    /// The attributes to ask for (Apple: `attributeNames`).
    pub attribute_names: Vec<String>,
}

/// The service's enhanced error.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnhancedError {
    /// Recommended action.
    pub action: String,
    /// Status.
    pub status: u16,
    /// Code.
    pub code: String,
    /// Message for the user.
    pub message: String,
    /// Partner details.
    pub details: Option<String>,
    /// Documentation link.
    pub help_url: Option<String>,
    /// Trace id.
    pub trace: Option<String>,
}

impl From<&core::EnhancedError> for EnhancedError {
    fn from(e: &core::EnhancedError) -> Self {
        Self {
            action: e.action.clone(),
            status: e.status,
            code: e.code.clone(),
            message: e.message.clone(),
            details: e.details.clone(),
            help_url: e.help_url.clone(),
            trace: e.trace.clone(),
        }
    }
}

/// Every error of a call. Deny decisions are not errors.
#[derive(Debug, Clone, thiserror::Error, uniffi::Error)]
pub enum PassError {
    /// A setting or argument is invalid.
    #[error("invalid configuration: {setting}: {reason}")]
    InvalidConfiguration {
        /// The setting.
        setting: String,
        /// What is wrong.
        reason: String,
    },
    /// Network failure.
    #[error("network error: {reason}")]
    Network {
        /// Description.
        reason: String,
    },
    /// Timed out.
    #[error("timed out")]
    Timeout,
    /// Throttled (429) after the retry budget.
    #[error("throttled")]
    Throttled,
    /// Error status from the service.
    #[error("server error {status}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The enhanced error, if any.
        error: Option<EnhancedError>,
    },
    /// Unexpected answer.
    #[error("protocol error: {reason}")]
    Protocol {
        /// Description.
        reason: String,
    },
    /// Registration refused.
    #[error("registration rejected: {reason}")]
    RegistrationRejected {
        /// The service's error.
        reason: String,
    },
    /// The session expired before the user finished.
    #[error("authentication expired")]
    AuthenticationExpired,
    /// A newer session replaced the polled one.
    #[error("session replaced")]
    SessionReplaced,
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Storage failure.
    #[error("storage error: {reason}")]
    Storage {
        /// Description.
        reason: String,
    },
}

impl From<core::PassError> for PassError {
    fn from(e: core::PassError) -> Self {
        use core::PassError as E;
        match e {
            E::InvalidConfiguration { setting, reason } => Self::InvalidConfiguration {
                setting: setting.to_string(),
                reason,
            },
            E::Network(reason) => Self::Network { reason },
            E::Timeout(_) => Self::Timeout,
            E::Throttled => Self::Throttled,
            E::Server { status, error } => Self::Server {
                status,
                error: error.as_deref().map(EnhancedError::from),
            },
            E::Protocol(reason) => Self::Protocol { reason },
            E::RegistrationRejected(reason) => Self::RegistrationRejected { reason },
            E::AuthenticationExpired => Self::AuthenticationExpired,
            E::SessionReplaced => Self::SessionReplaced,
            E::Cancelled => Self::Cancelled,
            E::Storage(reason) => Self::Storage { reason },
        }
    }
}

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

/// A user metadata attribute.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Attribute {
    /// Value (JSON text for lists and maps).
    pub value: String,
    /// Encrypted value.
    pub encrypted: bool,
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
                            value: a.value,
                            encrypted: a.encrypted,
                        },
                    )
                })
                .collect(),
            temp_pass: p.temp_pass.map(Into::into),
        }
    }
}

/// Why a resource was denied.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DenyReason {
    /// Denied by the MVPD.
    DeniedByMvpd,
    /// Preauthorization denied by the MVPD.
    PreauthorizationDeniedByMvpd,
    /// Parental controls.
    ParentalControls,
    /// Degradation rule.
    DegradationRule,
    /// TempPass time is over.
    TempPassDurationExceeded,
    /// TempPass resources used up.
    TempPassResourcesExceeded,
    /// TempPass identity missing or invalid.
    TempPassIdentityInvalid,
    /// No profile: log in.
    ProfileMissing,
    /// Profile expired: log in again.
    ProfileExpired,
    /// Profile invalidated.
    ProfileInvalidated,
    /// Home-based authentication policies.
    HbaPolicies,
    /// Session invalidated by the MVPD.
    SessionInvalidated,
    /// Identity not recognized by the MVPD.
    IdentityNotRecognized,
    /// The partner failed; later may succeed.
    PartnerUnavailable,
    /// The integration is misconfigured on the service's side (`invalid_configuration_*`).
    Misconfigured {
        /// The code.
        code: String,
    },
    /// The partner framework status is not usable (`invalid_header_pfs_*`).
    PartnerStatus {
        /// The code.
        code: String,
    },
    /// Another code.
    Other {
        /// The code.
        code: String,
    },
}

impl From<core::DenyReason> for DenyReason {
    fn from(r: core::DenyReason) -> Self {
        use core::DenyReason as R;
        match r {
            R::DeniedByMvpd => Self::DeniedByMvpd,
            R::PreauthorizationDeniedByMvpd => Self::PreauthorizationDeniedByMvpd,
            R::ParentalControls => Self::ParentalControls,
            R::DegradationRule => Self::DegradationRule,
            R::TempPassDurationExceeded => Self::TempPassDurationExceeded,
            R::TempPassResourcesExceeded => Self::TempPassResourcesExceeded,
            R::TempPassIdentityInvalid => Self::TempPassIdentityInvalid,
            R::ProfileMissing => Self::ProfileMissing,
            R::ProfileExpired => Self::ProfileExpired,
            R::ProfileInvalidated => Self::ProfileInvalidated,
            R::HbaPolicies => Self::HbaPolicies,
            R::SessionInvalidated => Self::SessionInvalidated,
            R::IdentityNotRecognized => Self::IdentityNotRecognized,
            R::PartnerUnavailable => Self::PartnerUnavailable,
            R::Misconfigured { code } => Self::Misconfigured { code },
            R::PartnerStatus { code } => Self::PartnerStatus { code },
            R::Other(code) => Self::Other { code },
        }
    }
}

/// A media token for the player.
#[derive(Clone, uniffi::Record)]
pub struct MediaToken {
    /// The serialized token (hand it to the player; never log it).
    pub serialized: String,
    /// Validity start, ms since the epoch.
    pub not_before_ms: i64,
    /// Validity end, ms since the epoch.
    pub not_after_ms: i64,
}

impl std::fmt::Debug for MediaToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaToken(***)")
    }
}

/// Permit or Deny.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Decision {
    /// May play.
    Permit {
        /// Resource.
        resource: String,
        /// MVPD.
        mvpd: String,
        /// `mvpd`, `degradation`, `temppass`, ...
        source: String,
        /// Media token (authorize only).
        media_token: Option<MediaToken>,
        /// Validity end, ms since the epoch.
        not_after_ms: Option<i64>,
    },
    /// May not play.
    Deny {
        /// Resource.
        resource: String,
        /// MVPD.
        mvpd: String,
        /// Source.
        source: String,
        /// Typed reason.
        reason: DenyReason,
        /// The service's error (show `message`).
        error: EnhancedError,
    },
}

fn source(s: core::DecisionSource) -> String {
    match s {
        core::DecisionSource::Mvpd => "mvpd".into(),
        core::DecisionSource::Degradation => "degradation".into(),
        core::DecisionSource::TempPass => "temppass".into(),
        core::DecisionSource::Dummy => "dummy".into(),
        core::DecisionSource::Other(o) => o,
    }
}

impl From<core::Decision> for Decision {
    fn from(d: core::Decision) -> Self {
        match d {
            core::Decision::Permit {
                resource,
                mvpd,
                source: s,
                media_token,
                not_after_ms,
            } => Self::Permit {
                resource,
                mvpd,
                source: source(s),
                media_token: media_token.map(|t| MediaToken {
                    serialized: t.serialized.expose().to_string(),
                    not_before_ms: t.not_before_ms,
                    not_after_ms: t.not_after_ms,
                }),
                not_after_ms,
            },
            core::Decision::Deny {
                resource,
                mvpd,
                source: s,
                reason,
                error,
            } => Self::Deny {
                resource,
                mvpd,
                source: source(s),
                reason: reason.into(),
                error: (&error).into(),
            },
        }
    }
}

/// What the app must do to finish a logout.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LogoutAction {
    /// Open the URL in a user agent.
    OpenUrl {
        /// The URL.
        url: String,
    },
    /// Done.
    Complete,
    /// Ask the user to log out at the platform level too.
    PartnerLogout,
    /// No profile was there.
    NoProfile,
    /// Unknown action.
    Other {
        /// The action name.
        name: String,
    },
}

impl From<core::LogoutAction> for LogoutAction {
    fn from(a: core::LogoutAction) -> Self {
        match a {
            core::LogoutAction::OpenUrl { url } => Self::OpenUrl { url },
            core::LogoutAction::Complete => Self::Complete,
            core::LogoutAction::PartnerLogout => Self::PartnerLogout,
            core::LogoutAction::NoProfile => Self::NoProfile,
            core::LogoutAction::Other(name) => Self::Other { name },
        }
    }
}

/// Cancels a long call from the foreign side (Swift Task cancellation handlers).
#[derive(Debug, Default, uniffi::Object)]
pub struct CancellationToken {
    cancelled: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

#[uniffi::export]
impl CancellationToken {
    /// A token not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Cancels: the call using the token ends at once with `Cancelled`.
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl CancellationToken {
    async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// The SDK client for Swift and Kotlin.
#[derive(uniffi::Object)]
pub struct PassClient {
    inner: core::PassClient,
}

type Result<T> = std::result::Result<T, PassError>;

/// Runs a call until it ends or the token is cancelled. On cancellation the call's future is
/// dropped at once: its request is abandoned (the connection closes) and nothing more is
/// written; state written before (tokens, profiles) is complete, as every write happens
/// between awaits.
async fn cancellable<T>(
    token: Option<Arc<CancellationToken>>,
    call: impl std::future::Future<Output = std::result::Result<T, core::PassError>>,
) -> Result<T> {
    match token {
        None => Ok(call.await?),
        Some(token) => tokio::select! {
            biased;
            _ = token.cancelled() => Err(PassError::Cancelled),
            r = call => Ok(r?),
        },
    }
}

fn identity(email: Option<String>) -> Result<Option<core::TempPassIdentity>> {
    email
        .map(|e| core::TempPassIdentity::email(&e))
        .transpose()
        .map_err(Into::into)
}

#[uniffi::export(async_runtime = "tokio")]
impl PassClient {
    /// Builds a client; every setting is checked here. `transport` (async, e.g. URLSession) or
    /// `blocking_transport` (e.g. HttpURLConnection): the app's HTTP stack, required by the
    /// mobile library, which has none of its own.
    #[uniffi::constructor(default(storage = None, transport = None, blocking_transport = None))]
    pub fn new(
        config: ClientConfig,
        storage: Option<Arc<dyn Storage>>,
        transport: Option<Arc<dyn HttpTransport>>,
        blocking_transport: Option<Arc<dyn BlockingHttpTransport>>,
    ) -> Result<Arc<Self>> {
        let d = config.device_info;
        let mut b = core::PassClient::builder()
            .environment(core::Environment::Custom(config.base_url))
            .service_provider(config.service_provider)
            .software_statement(config.software_statement)
            .device_info(core::DeviceInfo {
                primary_hardware_type: d.primary_hardware_type,
                model: d.model,
                version: d.version,
                manufacturer: d.manufacturer,
                vendor: d.vendor,
                os_name: d.os_name,
                os_family: d.os_family,
                os_vendor: d.os_vendor,
                os_version: d.os_version,
                display_width: d.display_width,
                display_height: d.display_height,
                connection_type: d.connection_type,
                application_id: d.application_id,
                ..Default::default()
            });
        if let Some(s) = storage {
            b = b.storage(Arc::new(StorageAdapter(s)));
        }
        match (transport, blocking_transport) {
            (Some(_), Some(_)) => {
                return Err(PassError::InvalidConfiguration {
                    setting: "transport".into(),
                    reason: "give either a transport or a blocking transport".into(),
                })
            }
            (Some(t), None) => b = b.http_transport(foreign_transport(t)),
            (None, Some(t)) => b = b.http_transport(host::blocking_transport(t)),
            (None, None) => {}
        }
        if let Some(id) = config.device_id {
            b = b.device_id(id);
        }
        if let Some(s) = config.polling_interval_seconds {
            b = b.polling_interval(Duration::from_secs(s.into()));
        }
        if let Some(n) = config.max_attempts {
            b = b.retry(core::RetryPolicy {
                max_attempts: n,
                ..Default::default()
            });
        }
        if let Some(ms) = config.request_timeout_ms {
            b = b.request_timeout(Duration::from_millis(ms));
        }
        if let Some(p) = config.pace_requests {
            b = b.rate_limit(core::RateLimit {
                enabled: p,
                ..Default::default()
            });
        }
        if let Some(d) = config.domain_name {
            b = b.domain_name(d);
        }
        if let Some(u) = config.redirect_url {
            b = b.redirect_url(u);
        }
        Ok(Arc::new(Self { inner: b.build()? }))
    }

    /// The configuration (cached 150 s).
    #[uniffi::method(default(cancellation = None))]
    pub async fn configuration(
        &self,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Configuration> {
        let c = cancellable(cancellation, self.inner.configuration()).await?;
        Ok(Configuration {
            picker_mvpds: c.picker_mvpds().into_iter().map(Mvpd::from).collect(),
            platform_picker_ids: c
                .platform_picker_ids()
                .into_iter()
                .map(str::to_string)
                .collect(),
            mvpds: c.mvpds.iter().map(Mvpd::from).collect(),
            service_provider: c.service_provider,
            name: c.name,
        })
    }

    /// Remembers the picked MVPD.
    pub fn select_mvpd(&self, mvpd: Mvpd) {
        self.inner.select_mvpd(&(&mvpd).into());
    }

    /// The picked MVPD.
    pub fn selected_mvpd(&self) -> Option<Mvpd> {
        self.inner.selected_mvpd().as_ref().map(Mvpd::from)
    }

    /// Starts authentication with an MVPD.
    #[uniffi::method(default(cancellation = None))]
    pub async fn create_session(
        &self,
        mvpd: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Session> {
        Ok(cancellable(cancellation, self.inner.create_session(&mvpd))
            .await?
            .into())
    }

    /// Resumes a session with missing parameters.
    #[uniffi::method(default(cancellation = None))]
    pub async fn resume_session(
        &self,
        code: String,
        mvpd: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Session> {
        Ok(
            cancellable(cancellation, self.inner.resume_session(&code, &mvpd))
                .await?
                .into(),
        )
    }

    /// The URL a user agent opens to log in with the code.
    pub fn authentication_url(&self, code: String) -> String {
        self.inner.authentication_url(&code)
    }

    /// Polls until the user finished logging in. Kotlin: cancel the coroutine to stop. Swift:
    /// the package's `awaitProfile(session:)` ends when its Task is cancelled.
    #[uniffi::method(default(listener = None, cancellation = None))]
    pub async fn await_profile(
        &self,
        session: Session,
        listener: Option<Arc<dyn PollListener>>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Profile> {
        let s: core::Session = (&session).into();
        let adapter = listener.map(ListenerAdapter);
        let observer = adapter.as_ref().map(|a| a as &dyn core::PollObserver);
        let polling = self.inner.await_profile_with(&s, observer);
        Ok(cancellable(cancellation, polling).await?.into())
    }

    /// The device's profiles (cached while valid).
    #[uniffi::method(default(cancellation = None))]
    pub async fn profiles(
        &self,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Vec<Profile>> {
        Ok(cancellable(cancellation, self.inner.profiles())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The profile for one MVPD.
    #[uniffi::method(default(cancellation = None))]
    pub async fn profile(
        &self,
        mvpd: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Option<Profile>> {
        Ok(cancellable(cancellation, self.inner.profile(&mvpd))
            .await?
            .map(Into::into))
    }

    /// Authorization before playback.
    #[uniffi::method(default(cancellation = None))]
    pub async fn authorize(
        &self,
        mvpd: String,
        resource: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Decision> {
        Ok(
            cancellable(cancellation, self.inner.authorize(&mvpd, &resource))
                .await?
                .into(),
        )
    }

    /// Preauthorization for the catalogue.
    #[uniffi::method(default(cancellation = None))]
    pub async fn preauthorize(
        &self,
        mvpd: String,
        resources: Vec<String>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Vec<Decision>> {
        let refs: Vec<&str> = resources.iter().map(String::as_str).collect();
        Ok(
            cancellable(cancellation, self.inner.preauthorize(&mvpd, &refs))
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }

    /// TempPass authorization: basic without `email`, promotional with it (hashed on the device).
    #[uniffi::method(default(email = None, cancellation = None))]
    pub async fn authorize_temp_pass(
        &self,
        mvpd: String,
        resource: String,
        email: Option<String>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Decision> {
        let id = identity(email)?;
        let call = self
            .inner
            .authorize_temp_pass(&mvpd, &resource, id.as_ref());
        Ok(cancellable(cancellation, call).await?.into())
    }

    /// TempPass metadata.
    #[uniffi::method(default(email = None, cancellation = None))]
    pub async fn temp_pass_info(
        &self,
        mvpd: String,
        email: Option<String>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Option<TempPassInfo>> {
        let id = identity(email)?;
        let call = self.inner.temp_pass_info(&mvpd, id.as_ref());
        Ok(cancellable(cancellation, call).await?.map(Into::into))
    }

    /// Logout on the user's request.
    #[uniffi::method(default(cancellation = None))]
    pub async fn logout(
        &self,
        mvpd: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<LogoutAction> {
        Ok(cancellable(cancellation, self.inner.logout(&mvpd))
            .await?
            .into())
    }

    /// Sets or clears the Amazon `Adobe-Subject-Token` (platform identity single sign-on).
    pub fn set_subject_token(&self, token: Option<String>) -> Result<()> {
        Ok(self
            .inner
            .set_platform_identity(token.map(core::PlatformIdentity::adobe_subject_token))?)
    }

    /// Sets or clears the Roku connect token (platform identity single sign-on).
    pub fn set_roku_connect_token(&self, token: Option<String>) -> Result<()> {
        Ok(self
            .inner
            .set_platform_identity(token.map(core::PlatformIdentity::roku_connect_token))?)
    }

    /// Sets or clears the `AD-Service-Token` (service token single sign-on).
    pub fn set_service_token(&self, token: Option<String>) -> Result<()> {
        Ok(self.inner.set_service_token(token.as_deref())?)
    }

    /// Sets or clears the Experience Cloud visitor id.
    pub fn set_visitor_id(&self, ecid: Option<String>) -> Result<()> {
        Ok(self.inner.set_visitor_id(ecid.as_deref())?)
    }

    /// Sets or clears the partner framework status sent on profiles and decisions. A status
    /// that names a provider without an expiration date is refused (`InvalidConfiguration`).
    pub fn set_partner_framework_status(
        &self,
        status: Option<PartnerFrameworkStatus>,
    ) -> Result<()> {
        let core_status = status.as_ref().map(core::PartnerFrameworkStatus::from);
        Ok(self
            .inner
            .set_partner_framework_status(core_status.as_ref())?)
    }

    /// Partner single sign-on, step 1: the partner authentication request (or a fallback to the
    /// basic flow, or `authorize` when a profile already applies).
    #[uniffi::method(default(cancellation = None))]
    pub async fn partner_session(
        &self,
        partner: String,
        status: PartnerFrameworkStatus,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Session> {
        let status = core::PartnerFrameworkStatus::from(&status);
        let call = self.inner.partner_session(&partner, &status);
        Ok(cancellable(cancellation, call).await?.into())
    }

    /// Partner single sign-on, step 2: the profile from the framework's SAML response (the
    /// text exactly as the framework gives it).
    #[uniffi::method(default(cancellation = None))]
    pub async fn partner_profile(
        &self,
        partner: String,
        status: PartnerFrameworkStatus,
        saml_response: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Option<Profile>> {
        let status = core::PartnerFrameworkStatus::from(&status);
        let call = self
            .inner
            .partner_profile(&partner, &status, &saml_response);
        Ok(cancellable(cancellation, call).await?.map(Into::into))
    }
}

/// SHA-256 (lowercase hex) of a trimmed, lower-cased identifier, as promotional TempPass sends it.
#[uniffi::export]
pub fn temp_pass_identity_hash(identifier: String) -> Result<String> {
    Ok(core::TempPassIdentity::email(&identifier)?
        .hash()
        .to_string())
}
