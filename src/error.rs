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
}

impl PassError {
    /// Whether retrying the same call later may succeed (network trouble, timeouts, throttling,
    /// 5xx, enhanced action `retry`). Deny decisions, 4xx validation errors and cancellations
    /// are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            PassError::Network(_) | PassError::Timeout(_) | PassError::Throttled => true,
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
