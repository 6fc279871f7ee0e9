//! Decisions and logouts: `Decision` (Permit or Deny), `DenyReason`, `MediaToken` and
//! `LogoutAction`, converted from the core's.

use super::core;
use super::error::EnhancedError;

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
    /// The serialized token (hand it to the player; it never prints).
    pub serialized: super::config::SecretText,
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
                    serialized: t.serialized.expose().to_string().into(),
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
