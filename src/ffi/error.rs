//! The error every call can throw (`PassError`; Kotlin: `PassException`) and the service's
//! enhanced error, mirrored from the core.

// Errors cross the boundary by value as uniffi records; boxing them is not possible there.
#![allow(clippy::result_large_err)]

use super::core;

/// What the bindings' calls return.
pub(crate) type Result<T> = std::result::Result<T, PassError>;

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
    /// A service is failing fast while Adobe Pass is down; the next probe goes in
    /// `retry_after_ms`. A device app's client never fails fast.
    #[error("unavailable; next probe in {retry_after_ms} ms")]
    Unavailable {
        /// Milliseconds until the next probe.
        retry_after_ms: u64,
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
            E::Unavailable { retry_after } => Self::Unavailable {
                retry_after_ms: retry_after.as_millis().min(u128::from(u64::MAX)) as u64,
            },
        }
    }
}
