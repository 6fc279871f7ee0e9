//! The uniffi layer for Swift and Kotlin (feature `ffi`). It adapts types and adds no logic:
//! every call goes to the core's [`crate::PassClient`]. One file per concern, as in the core:
//!
//! | file | what it holds |
//! |---|---|
//! | `client.rs` | the `PassClient` export |
//! | `config.rs` | `ClientConfig`, `DeviceInfo` |
//! | `model.rs` | configuration, session and profile records |
//! | `decision.rs` | `Decision`, `DenyReason`, `MediaToken`, `LogoutAction` |
//! | `sso.rs` | the partner framework status and authentication request |
//! | `error.rs` | `PassError` and the enhanced error |
//! | `storage.rs` | the foreign `Storage` and `PollListener` |
//! | `cancel.rs` | `CancellationToken` |
//! | `host.rs` | the host's HTTP transport and logger |
//!
//! Foreign names: `PassClient`, `ClientConfig`, `Storage` (implemented by the app),
//! `PollListener`, records and enums for every result, and `PassError` (Kotlin:
//! `PassException`, Swift: `PassError`).

mod cancel;
mod client;
mod config;
mod decision;
mod error;
mod host;
mod model;
mod sso;
mod storage;

pub use cancel::CancellationToken;
pub use client::{temp_pass_identity_hash, PassClient};
pub use config::{ClientConfig, DeviceInfo, SecretText};
pub use decision::{Decision, DenyReason, LogoutAction, MediaToken};
pub use error::{EnhancedError, PassError};
pub use host::{
    blocking_transport, foreign_transport, set_logger, BlockingHttpTransport, CancelHook,
    HttpError, HttpHeader, HttpRequest, HttpRequestParts, HttpResponse, HttpTransport, LogLevel,
    Logger,
};
pub use model::{
    Attribute, Configuration, Mvpd, Profile, ProfileType, Session, SessionAction, TempPassInfo,
};
pub use sso::{
    partner_framework_status_header, PartnerAccessStatus, PartnerAuthenticationRequest,
    PartnerFrameworkError, PartnerFrameworkStatus,
};
pub use storage::{PollListener, Storage, StorageError};

/// The core items the bindings adapt, each from the module that defines it.
mod core {
    pub use crate::api::sessions::PollObserver;
    pub use crate::api::temppass::TempPassIdentity;
    pub use crate::client::PassClient;
    pub use crate::config::{DeviceInfo, Environment, RateLimit, RetryPolicy};
    pub use crate::error::{EnhancedError, PassError};
    pub use crate::http::{self, HttpRequest, HttpResponse, HttpTransport, TransportError};
    pub use crate::model::{
        BoardingStatus, Decision, DecisionSource, DenyReason, LogoutAction, Mvpd,
        PartnerAuthenticationRequest, Profile, ProfileType, Session, SessionAction, SessionReason,
        TempPassInfo,
    };
    pub use crate::sso::{
        PartnerAccessStatus, PartnerFrameworkError, PartnerFrameworkStatus, PlatformIdentity,
    };
    pub use crate::storage::{Storage, StorageError};
}

#[cfg(test)]
mod tests;
