//! # tvpass
//!
//! The client SDK for the Adobe Pass Authentication REST API V2: registration (DCR),
//! configuration, authentication sessions, profiles, preauthorization and authorization
//! decisions, logout and TempPass, with token caching, bounded retries and Deny answers as data.
//!
//! One [`PassClient`] serves the whole app. It registers once and keeps the client credentials
//! forever and the access token until it expires (through your [`Storage`]); it paces its own
//! requests to the service's limit (1 request per second after a burst of 10), retries only
//! transient failures (at most 3 attempts within a deadline), and returns a Deny as
//! [`Decision::Deny`] with a typed [`DenyReason`].
//!
//! Requests go through one [`HttpTransport`]: [`ReqwestTransport`] by default (feature
//! `reqwest-transport`), or the app's own with [`PassClientBuilder::http_transport`]; pacing,
//! retries, deadlines and error decoding stay in the SDK whatever sends.
//!
//! Server to server (feature `service`, on by default): a backend that calls the service for
//! many devices builds one `PassService` (one registration for the process, or for a fleet with
//! the `redis` feature) and takes a [`PassClient`] per device from it with
//! `PassService::device`; see the `service` module.
//!
//! Single sign-on: [`PassClient::partner_session`] and [`PassClient::partner_profile`] (Apple,
//! with a [`PartnerFrameworkStatus`]), [`PassClientBuilder::platform_identity`] (Fire TV, Roku)
//! and [`PassClientBuilder::service_token`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tvpass::{Decision, DeviceInfo, Environment, PassClient};
//! # let emulator = tvpass_emulator::Emulator::start(Default::default()).await?;
//! # let base_url = emulator.base_url();
//!
//! let client = PassClient::builder()
//!     .environment(Environment::Custom(base_url)) // or Environment::Production
//!     .service_provider("REF30")
//!     .software_statement("tvpass-emulator-software-statement")
//!     .device_info(DeviceInfo { primary_hardware_type: Some("SetTopBox".into()), ..Default::default() })
//!     .build()?;
//!
//! // The user picks a provider and logs in on a second screen with the code.
//! let session = client.create_session("Cablevision").await?;
//! let code = session.code.clone().expect("a code to show");
//! println!("Go to {} and enter {code}", client.authentication_url(&code));
//! # emulator.complete_authentication(&code, Default::default())?;
//! let profile = client.await_profile(&session).await?;
//! assert_eq!(profile.mvpd, "Cablevision");
//!
//! // Before playback:
//! match client.authorize("Cablevision", "news").await? {
//!     Decision::Permit { media_token, .. } => { let _ = media_token; /* play */ }
//!     Decision::Deny { reason, error, .. } => println!("{reason:?}: {}", error.message),
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod api;
mod builder;
mod client;
mod config;
mod device;
mod digest;
mod error;
#[cfg(feature = "ffi")]
pub mod ffi;
#[cfg(feature = "redis")]
mod fleet;
mod guard;
pub mod http;
mod model;
mod pace;
#[cfg(feature = "service")]
mod packed;
mod registration;
#[cfg(feature = "redis")]
mod seal;
mod secret;
#[cfg(feature = "service")]
pub mod service;
mod sso;
mod storage;
mod telemetry;
mod time;
mod transport;

pub use api::sessions::PollObserver;
pub use api::temppass::{hash_identifier, ManagementClient, ResetTarget, TempPassIdentity};
pub use builder::PassClientBuilder;
pub use client::{PassClient, MAX_ID_BYTES, MAX_RESOURCE_BYTES};
pub use config::{
    DeviceInfo, Environment, FailFast, RateLimit, RetryBudget, RetryPolicy, HARDWARE_TYPES,
    MAX_DEVICE_INFO, OS_NAMES,
};
pub use device::{MAX_PERMITS, MAX_PERMIT_BYTES, MAX_PROFILES};
pub use error::{EnhancedError, ErrorAction, ErrorCode, PassError};
pub use http::{HttpRequest, HttpResponse, HttpTransport, TransportError};
#[cfg(feature = "reqwest-transport")]
pub use http::{ReqwestTransport, ReqwestTransportBuilder};
pub use model::{
    Attribute, BoardingStatus, Configuration, Decision, DecisionSource, DenyReason, LogoutAction,
    MediaToken, Mvpd, PartnerAuthenticationRequest, Profile, ProfileType, Session, SessionAction,
    SessionReason, TempPassInfo,
};
pub use secret::Secret;
#[cfg(feature = "service")]
pub use service::{DeviceContext, PassService, PassServiceBuilder};
pub use sso::{
    PartnerAccessStatus, PartnerFrameworkError, PartnerFrameworkStatus, PartnerStatusProblem,
    PlatformIdentity, PARTNER_APPLE,
};
pub use storage::{FileStorage, MemoryStorage, Storage, StorageError};

#[cfg(feature = "ffi")]
uniffi::setup_scaffolding!();

/// Decoders of every answer, for property tests and fuzzing: each takes raw bytes and returns a
/// typed value or a [`PassError`], never a panic.
#[doc(hidden)]
pub mod decoders {
    use crate::error::PassError;

    /// Configuration answer.
    pub fn configuration(b: &[u8]) -> Result<crate::model::Configuration, PassError> {
        crate::api::configuration::decode(b)
    }
    /// Session answer.
    pub fn session(b: &[u8]) -> Result<crate::model::Session, PassError> {
        crate::api::sessions::decode(b, "https://base")
    }
    /// Profiles answer.
    pub fn profiles(b: &[u8]) -> Result<Vec<crate::model::Profile>, PassError> {
        crate::api::profiles::decode(b)
    }
    /// Decisions answer.
    pub fn decisions(b: &[u8]) -> Result<Vec<crate::model::Decision>, PassError> {
        crate::api::decisions::decode(b, "mvpd")
    }
    /// Logout answer.
    pub fn logout(b: &[u8]) -> Result<crate::model::LogoutAction, PassError> {
        crate::api::logout::decode(b, "mvpd", "https://base")
    }
    /// Enhanced error body.
    pub fn enhanced_error(b: &[u8]) -> Option<crate::error::EnhancedError> {
        crate::transport::decode_enhanced(b)
    }
    /// A packed device state, as a service reads it from its cache: `None` when it is not one,
    /// else whether packing it again gives back what was read, and the numbers of profiles and
    /// Permits kept.
    #[cfg(feature = "service")]
    pub fn packed_device(b: &[u8]) -> Option<(bool, usize, usize)> {
        crate::device::repack(b)
    }
    /// The token (`kind` 0) or the credentials (any other) as storage or a fleet gives them
    /// back: `None` when the text is not one, else whether it is used and whether it can be
    /// sent.
    pub fn read_back(kind: u8, text: &str) -> Option<(bool, bool)> {
        crate::registration::read_back(kind, text)
    }
    /// A device's state as a fleet reads it from Redis: the profiles kept and the number of
    /// Permits kept.
    #[cfg(feature = "redis")]
    pub fn fleet_device(json: &str) -> (Vec<crate::model::Profile>, usize) {
        let state = crate::device::DeviceState::from_packed(None);
        crate::fleet::apply_saved(Some(json), &state);
        let profiles = state.profiles().clone();
        let permits = state.preauthorized().len();
        (profiles, permits)
    }
}
