//! The one public error type, and the enhanced error object of the service.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The service's enhanced error object, as it appears in 4xx/5xx bodies and in Deny decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EnhancedError {
    /// Recommended action: `none`, `configuration`, `application-registration`,
    /// `authentication`, `authorization`, `retry`, or a newer value.
    #[serde(default)]
    pub action: String,
    /// The status of the error (may differ from the HTTP status for item-level errors).
    #[serde(default)]
    pub status: u16,
    /// The error code, e.g. `authorization_denied_by_mvpd`; unknown codes are kept as they are.
    #[serde(default)]
    pub code: String,
    /// A human-readable message that may be shown to the user.
    #[serde(default)]
    pub message: String,
    /// Optional partner (MVPD) text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Link to the documentation of the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_url: Option<String>,
    /// Identifier of the answer, for support tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

impl EnhancedError {
    /// The code, typed.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_code(&self.code)
    }

    /// The recommended action, typed.
    pub fn action(&self) -> ErrorAction {
        match self.action.as_str() {
            "none" => ErrorAction::None,
            "configuration" => ErrorAction::Configuration,
            "application-registration" => ErrorAction::ApplicationRegistration,
            "authentication" => ErrorAction::Authentication,
            "authorization" => ErrorAction::Authorization,
            "retry" => ErrorAction::Retry,
            _ => ErrorAction::Other,
        }
    }
}

/// Every enhanced error code the REST API V2 documents, typed; [`ErrorCode::Other`] keeps a code
/// this SDK does not know. Get it with [`EnhancedError::error_code`] or
/// [`PassError::error_code`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `invalid_parameter_service_provider`.
    InvalidParameterServiceProvider,
    /// `invalid_parameter_mvpd`.
    InvalidParameterMvpd,
    /// `invalid_parameter_code`.
    InvalidParameterCode,
    /// `invalid_parameter_resources`.
    InvalidParameterResources,
    /// `invalid_parameter_redirect_url`.
    InvalidParameterRedirectUrl,
    /// `invalid_parameter_partner`.
    InvalidParameterPartner,
    /// `invalid_parameter_saml_response`.
    InvalidParameterSamlResponse,
    /// `invalid_header_device_info`.
    InvalidHeaderDeviceInfo,
    /// `invalid_header_device_identifier`.
    InvalidHeaderDeviceIdentifier,
    /// `invalid_header_identity_for_temporary_access`.
    InvalidHeaderIdentityForTemporaryAccess,
    /// `invalid_header_pfs_permission_access_not_present`.
    PfsPermissionAccessNotPresent,
    /// `invalid_header_pfs_permission_access_not_determined`.
    PfsPermissionAccessNotDetermined,
    /// `invalid_header_pfs_permission_access_not_granted`.
    PfsPermissionAccessNotGranted,
    /// `invalid_header_pfs_provider_id_not_determined`.
    PfsProviderIdNotDetermined,
    /// `invalid_header_pfs_provider_id_mismatch`.
    PfsProviderIdMismatch,
    /// `invalid_header_pfs_provider_info_expired`.
    PfsProviderInfoExpired,
    /// `invalid_integration`.
    InvalidIntegration,
    /// `invalid_authentication_session`.
    InvalidAuthenticationSession,
    /// `preauthorization_denied_by_mvpd`.
    PreauthorizationDeniedByMvpd,
    /// `authorization_denied_by_mvpd`.
    AuthorizationDeniedByMvpd,
    /// `authorization_denied_by_parental_controls`.
    AuthorizationDeniedByParentalControls,
    /// `authorization_denied_by_degradation_rule`.
    AuthorizationDeniedByDegradationRule,
    /// `internal_server_error`.
    InternalServerError,
    /// `too_many_resources`.
    TooManyResources,
    /// `invalid_configuration_user_metadata_certificate`.
    InvalidConfigurationUserMetadataCertificate,
    /// `invalid_configuration_temporary_access`.
    InvalidConfigurationTemporaryAccess,
    /// `invalid_configuration_platform`.
    InvalidConfigurationPlatform,
    /// `invalid_configuration_platform_id`.
    InvalidConfigurationPlatformId,
    /// `invalid_configuration_platform_trait`.
    InvalidConfigurationPlatformTrait,
    /// `invalid_configuration_platform_category_trait`.
    InvalidConfigurationPlatformCategoryTrait,
    /// `invalid_configuration_platform_services`.
    InvalidConfigurationPlatformServices,
    /// `invalid_configuration_mvpd_platform`.
    InvalidConfigurationMvpdPlatform,
    /// `invalid_configuration_mvpd_platform_boarding_status`.
    InvalidConfigurationMvpdPlatformBoardingStatus,
    /// `invalid_configuration_mvpd_platform_profile_exchange`.
    InvalidConfigurationMvpdPlatformProfileExchange,
    /// `invalid_access_token_service_provider`.
    InvalidAccessTokenServiceProvider,
    /// `invalid_access_token_client_application`.
    InvalidAccessTokenClientApplication,
    /// `authenticated_profile_missing`.
    AuthenticatedProfileMissing,
    /// `authenticated_profile_expired`.
    AuthenticatedProfileExpired,
    /// `authenticated_profile_invalidated`.
    AuthenticatedProfileInvalidated,
    /// `temporary_access_duration_limit_exceeded`.
    TemporaryAccessDurationLimitExceeded,
    /// `temporary_access_resources_limit_exceeded`.
    TemporaryAccessResourcesLimitExceeded,
    /// `authorization_denied_by_hba_policies`.
    AuthorizationDeniedByHbaPolicies,
    /// `authorization_denied_by_session_invalidated`.
    AuthorizationDeniedBySessionInvalidated,
    /// `identity_not_recognized_by_mvpd`.
    IdentityNotRecognizedByMvpd,
    /// `network_received_error`.
    NetworkReceivedError,
    /// `network_connection_timeout`.
    NetworkConnectionTimeout,
    /// `maximum_execution_time_exceeded`.
    MaximumExecutionTimeExceeded,
    /// A code this SDK does not know.
    Other(String),
}

impl ErrorCode {
    /// The code for its wire spelling.
    pub fn from_code(code: &str) -> Self {
        match code {
            "invalid_parameter_service_provider" => Self::InvalidParameterServiceProvider,
            "invalid_parameter_mvpd" => Self::InvalidParameterMvpd,
            "invalid_parameter_code" => Self::InvalidParameterCode,
            "invalid_parameter_resources" => Self::InvalidParameterResources,
            "invalid_parameter_redirect_url" => Self::InvalidParameterRedirectUrl,
            "invalid_parameter_partner" => Self::InvalidParameterPartner,
            "invalid_parameter_saml_response" => Self::InvalidParameterSamlResponse,
            "invalid_header_device_info" => Self::InvalidHeaderDeviceInfo,
            "invalid_header_device_identifier" => Self::InvalidHeaderDeviceIdentifier,
            "invalid_header_identity_for_temporary_access" => {
                Self::InvalidHeaderIdentityForTemporaryAccess
            }
            "invalid_header_pfs_permission_access_not_present" => {
                Self::PfsPermissionAccessNotPresent
            }
            "invalid_header_pfs_permission_access_not_determined" => {
                Self::PfsPermissionAccessNotDetermined
            }
            "invalid_header_pfs_permission_access_not_granted" => {
                Self::PfsPermissionAccessNotGranted
            }
            "invalid_header_pfs_provider_id_not_determined" => Self::PfsProviderIdNotDetermined,
            "invalid_header_pfs_provider_id_mismatch" => Self::PfsProviderIdMismatch,
            "invalid_header_pfs_provider_info_expired" => Self::PfsProviderInfoExpired,
            "invalid_integration" => Self::InvalidIntegration,
            "invalid_authentication_session" => Self::InvalidAuthenticationSession,
            "preauthorization_denied_by_mvpd" => Self::PreauthorizationDeniedByMvpd,
            "authorization_denied_by_mvpd" => Self::AuthorizationDeniedByMvpd,
            "authorization_denied_by_parental_controls" => {
                Self::AuthorizationDeniedByParentalControls
            }
            "authorization_denied_by_degradation_rule" => {
                Self::AuthorizationDeniedByDegradationRule
            }
            "internal_server_error" => Self::InternalServerError,
            "too_many_resources" => Self::TooManyResources,
            "invalid_configuration_user_metadata_certificate" => {
                Self::InvalidConfigurationUserMetadataCertificate
            }
            "invalid_configuration_temporary_access" => Self::InvalidConfigurationTemporaryAccess,
            "invalid_configuration_platform" => Self::InvalidConfigurationPlatform,
            "invalid_configuration_platform_id" => Self::InvalidConfigurationPlatformId,
            "invalid_configuration_platform_trait" => Self::InvalidConfigurationPlatformTrait,
            "invalid_configuration_platform_category_trait" => {
                Self::InvalidConfigurationPlatformCategoryTrait
            }
            "invalid_configuration_platform_services" => Self::InvalidConfigurationPlatformServices,
            "invalid_configuration_mvpd_platform" => Self::InvalidConfigurationMvpdPlatform,
            "invalid_configuration_mvpd_platform_boarding_status" => {
                Self::InvalidConfigurationMvpdPlatformBoardingStatus
            }
            "invalid_configuration_mvpd_platform_profile_exchange" => {
                Self::InvalidConfigurationMvpdPlatformProfileExchange
            }
            "invalid_access_token_service_provider" => Self::InvalidAccessTokenServiceProvider,
            "invalid_access_token_client_application" => Self::InvalidAccessTokenClientApplication,
            "authenticated_profile_missing" => Self::AuthenticatedProfileMissing,
            "authenticated_profile_expired" => Self::AuthenticatedProfileExpired,
            "authenticated_profile_invalidated" => Self::AuthenticatedProfileInvalidated,
            "temporary_access_duration_limit_exceeded" => {
                Self::TemporaryAccessDurationLimitExceeded
            }
            "temporary_access_resources_limit_exceeded" => {
                Self::TemporaryAccessResourcesLimitExceeded
            }
            "authorization_denied_by_hba_policies" => Self::AuthorizationDeniedByHbaPolicies,
            "authorization_denied_by_session_invalidated" => {
                Self::AuthorizationDeniedBySessionInvalidated
            }
            "identity_not_recognized_by_mvpd" => Self::IdentityNotRecognizedByMvpd,
            "network_received_error" => Self::NetworkReceivedError,
            "network_connection_timeout" => Self::NetworkConnectionTimeout,
            "maximum_execution_time_exceeded" => Self::MaximumExecutionTimeExceeded,
            other => Self::Other(other.to_string()),
        }
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidParameterServiceProvider => "invalid_parameter_service_provider",
            Self::InvalidParameterMvpd => "invalid_parameter_mvpd",
            Self::InvalidParameterCode => "invalid_parameter_code",
            Self::InvalidParameterResources => "invalid_parameter_resources",
            Self::InvalidParameterRedirectUrl => "invalid_parameter_redirect_url",
            Self::InvalidParameterPartner => "invalid_parameter_partner",
            Self::InvalidParameterSamlResponse => "invalid_parameter_saml_response",
            Self::InvalidHeaderDeviceInfo => "invalid_header_device_info",
            Self::InvalidHeaderDeviceIdentifier => "invalid_header_device_identifier",
            Self::InvalidHeaderIdentityForTemporaryAccess => {
                "invalid_header_identity_for_temporary_access"
            }
            Self::PfsPermissionAccessNotPresent => {
                "invalid_header_pfs_permission_access_not_present"
            }
            Self::PfsPermissionAccessNotDetermined => {
                "invalid_header_pfs_permission_access_not_determined"
            }
            Self::PfsPermissionAccessNotGranted => {
                "invalid_header_pfs_permission_access_not_granted"
            }
            Self::PfsProviderIdNotDetermined => "invalid_header_pfs_provider_id_not_determined",
            Self::PfsProviderIdMismatch => "invalid_header_pfs_provider_id_mismatch",
            Self::PfsProviderInfoExpired => "invalid_header_pfs_provider_info_expired",
            Self::InvalidIntegration => "invalid_integration",
            Self::InvalidAuthenticationSession => "invalid_authentication_session",
            Self::PreauthorizationDeniedByMvpd => "preauthorization_denied_by_mvpd",
            Self::AuthorizationDeniedByMvpd => "authorization_denied_by_mvpd",
            Self::AuthorizationDeniedByParentalControls => {
                "authorization_denied_by_parental_controls"
            }
            Self::AuthorizationDeniedByDegradationRule => {
                "authorization_denied_by_degradation_rule"
            }
            Self::InternalServerError => "internal_server_error",
            Self::TooManyResources => "too_many_resources",
            Self::InvalidConfigurationUserMetadataCertificate => {
                "invalid_configuration_user_metadata_certificate"
            }
            Self::InvalidConfigurationTemporaryAccess => "invalid_configuration_temporary_access",
            Self::InvalidConfigurationPlatform => "invalid_configuration_platform",
            Self::InvalidConfigurationPlatformId => "invalid_configuration_platform_id",
            Self::InvalidConfigurationPlatformTrait => "invalid_configuration_platform_trait",
            Self::InvalidConfigurationPlatformCategoryTrait => {
                "invalid_configuration_platform_category_trait"
            }
            Self::InvalidConfigurationPlatformServices => "invalid_configuration_platform_services",
            Self::InvalidConfigurationMvpdPlatform => "invalid_configuration_mvpd_platform",
            Self::InvalidConfigurationMvpdPlatformBoardingStatus => {
                "invalid_configuration_mvpd_platform_boarding_status"
            }
            Self::InvalidConfigurationMvpdPlatformProfileExchange => {
                "invalid_configuration_mvpd_platform_profile_exchange"
            }
            Self::InvalidAccessTokenServiceProvider => "invalid_access_token_service_provider",
            Self::InvalidAccessTokenClientApplication => "invalid_access_token_client_application",
            Self::AuthenticatedProfileMissing => "authenticated_profile_missing",
            Self::AuthenticatedProfileExpired => "authenticated_profile_expired",
            Self::AuthenticatedProfileInvalidated => "authenticated_profile_invalidated",
            Self::TemporaryAccessDurationLimitExceeded => {
                "temporary_access_duration_limit_exceeded"
            }
            Self::TemporaryAccessResourcesLimitExceeded => {
                "temporary_access_resources_limit_exceeded"
            }
            Self::AuthorizationDeniedByHbaPolicies => "authorization_denied_by_hba_policies",
            Self::AuthorizationDeniedBySessionInvalidated => {
                "authorization_denied_by_session_invalidated"
            }
            Self::IdentityNotRecognizedByMvpd => "identity_not_recognized_by_mvpd",
            Self::NetworkReceivedError => "network_received_error",
            Self::NetworkConnectionTimeout => "network_connection_timeout",
            Self::MaximumExecutionTimeExceeded => "maximum_execution_time_exceeded",
            Self::Other(c) => c,
        }
    }

    /// Whether the code is about the `AP-Partner-Framework-Status` header (`invalid_header_pfs_*`):
    /// refresh the status from the partner framework.
    pub fn is_partner_status(&self) -> bool {
        self.as_str().starts_with("invalid_header_pfs_")
    }

    /// Whether the code reports a configuration problem on the service's side
    /// (`invalid_configuration_*`, `too_many_resources`).
    pub fn is_misconfiguration(&self) -> bool {
        let c = self.as_str();
        c.starts_with("invalid_configuration_") || c == "too_many_resources"
    }
}

/// The `action` of an enhanced error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorAction {
    /// No predefined remedy; often a request to fix.
    None,
    /// The integration's configuration must change.
    Configuration,
    /// The application must register again.
    ApplicationRegistration,
    /// The user must authenticate again.
    Authentication,
    /// The user must obtain authorization again.
    Authorization,
    /// The request may be retried (a few times at most).
    Retry,
    /// An action this SDK does not know yet.
    Other,
}

/// Everything that can go wrong in a call. Deny decisions are not errors: they are
/// [`crate::Decision::Deny`].
///
/// Messages never contain secrets (client secret, tokens, media tokens, user identifiers).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PassError {
    /// A builder setting or call argument is invalid; `setting` names it.
    #[error("invalid configuration: {setting}: {reason}")]
    InvalidConfiguration {
        /// The setting or argument.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be sent or its answer could not be read (connection refused,
    /// reset, DNS, TLS).
    #[error("network error: {0}")]
    Network(String),
    /// No answer within the request timeout or the call's overall deadline.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The service answered 429 and the retry budget is spent.
    #[error("throttled by the service (429)")]
    Throttled,
    /// The service answered with an error status (and, usually, an enhanced error).
    #[error("server error {status}: {}", .error.as_ref().map(|e| e.code.as_str()).unwrap_or("no enhanced error"))]
    Server {
        /// HTTP status.
        status: u16,
        /// The enhanced error of the body, when there was one.
        error: Option<Box<EnhancedError>>,
    },
    /// The answer could not be understood (not JSON, missing fields, too large).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Registration was refused (`invalid_software_statement`, `unapproved_software_statement`,
    /// `invalid_client` after a new registration, ...).
    #[error("registration rejected: {0}")]
    RegistrationRejected(String),
    /// The authentication session expired before the user finished (polling reached `notAfter`).
    #[error("the authentication session expired before the user finished")]
    AuthenticationExpired,
    /// A newer authentication session replaced the one being polled.
    #[error("a newer authentication session replaced this one")]
    SessionReplaced,
    /// The call was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The host's storage failed in a way the SDK cannot work around.
    #[error("storage error: {0}")]
    Storage(String),
    /// A service is failing fast: Adobe Pass failed too many requests in a row (see
    /// [`FailFast`](crate::FailFast)), so the call was not sent. The next probe goes in
    /// `retry_after`.
    #[error("Adobe Pass is unavailable; the next probe goes in {} ms", .retry_after.as_millis())]
    Unavailable {
        /// How long until the service sends a probe.
        retry_after: Duration,
    },
}

impl PassError {
    /// Whether retrying the same call later may succeed (network trouble, timeouts, throttling,
    /// 5xx, enhanced action `retry`). Deny decisions, 4xx validation errors and cancellations
    /// are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            PassError::Network(_)
            | PassError::Timeout(_)
            | PassError::Throttled
            | PassError::Unavailable { .. } => true,
            PassError::Server { status, error } => {
                *status >= 500
                    || *status == 429
                    || error
                        .as_ref()
                        .is_some_and(|e| e.action() == ErrorAction::Retry)
            }
            _ => false,
        }
    }

    /// The typed code of the enhanced error carried by a server error.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.enhanced().map(EnhancedError::error_code)
    }

    /// The enhanced error carried by a server error.
    pub fn enhanced(&self) -> Option<&EnhancedError> {
        match self {
            PassError::Server { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn config(setting: &'static str, reason: impl Into<String>) -> Self {
        PassError::InvalidConfiguration {
            setting,
            reason: reason.into(),
        }
    }
}
