//! [`PassClient`]: the one front door. Built once with [`PassClient::builder`] (in
//! `builder.rs`), cheap to clone, shared by the whole app; or one per device from a service.
//! What every device shares ([`Shared`]: the pipeline, the registration, the configuration
//! cache) and what one device owns ([`Inner`]), and how a call goes out.

use crate::device::DeviceState;
use crate::error::{ErrorAction, PassError};
use crate::http::{HeaderMap, HeaderName, HeaderValue};
use crate::model::Configuration;
use crate::pace::Pacing;
use crate::registration::Registration;
use crate::secret::Secret;
use crate::sso::{IdentityKeys, PartnerFrameworkStatus, PlatformIdentity, SsoHeaders, SsoScope};
use crate::time::Instant;
use crate::transport::{bearer, Answer, Request, Transport};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The SDK's client. Cheap to clone; clones share caches, tokens and pacing.
///
/// See the crate documentation for a complete journey.
#[derive(Clone)]
pub struct PassClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for PassClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassClient")
            .field("base_url", &self.inner.base)
            .field("service_provider", &self.inner.sp)
            .finish_non_exhaustive()
    }
}

/// What every device of a client or service shares.
pub(crate) struct Shared {
    pub base: String,
    pub base_url: url::Url,
    pub sp: String,
    pub transport: Transport,
    pub registration: Registration,
    /// `Accept` and `User-Agent`.
    pub base_headers: HeaderMap,
    pub polling_interval: Duration,
    pub batch: usize,
    pub concurrency: usize,
    pub configuration_ttl: Duration,
    pub domain_name: String,
    pub redirect_url: String,
    pub configuration: Mutex<Option<(Instant, Configuration)>>,
    /// The fleet's shared state (Redis), when the service has one.
    #[cfg(feature = "redis")]
    pub fleet: Option<Arc<crate::fleet::Fleet>>,
}

impl Shared {
    /// The base headers plus `X-Device-Info` and `AP-Device-Identifier`.
    pub fn device_headers(&self, device_info: &str, device_id: &Secret) -> HeaderMap {
        let mut headers = self.base_headers.clone();
        if let Ok(v) = HeaderValue::from_str(device_info) {
            headers.insert(HeaderName::from_static("x-device-info"), v);
        }
        if let Ok(mut v) = HeaderValue::from_str(&format!(
            "fingerprint {}",
            STANDARD.encode(device_id.expose())
        )) {
            v.set_sensitive(true);
            headers.insert(HeaderName::from_static("ap-device-identifier"), v);
        }
        headers
    }
}

/// One device: the shared part and the device's own.
pub(crate) struct Inner {
    pub shared: Arc<Shared>,
    pub device_id: Secret,
    /// The base headers plus `AP-Device-Identifier` and `X-Device-Info`.
    pub device_headers: HeaderMap,
    /// `X-Forwarded-For`: the IP of a device served by a service, on every call it makes.
    pub forwarded_for: Option<HeaderValue>,
    /// Single sign-on headers (platform identity, service token, partner status, visitor).
    pub sso: RwLock<SsoHeaders>,
    pub state: Arc<DeviceState>,
    /// The device's pace.
    pub pacing: Pacing,
    /// Where a service keeps this device's state between handles (it gets the state back when
    /// the handle goes).
    #[cfg(feature = "service")]
    pub home: Option<Box<dyn crate::device::DeviceHome>>,
}

impl std::ops::Deref for Inner {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

#[cfg(feature = "service")]
impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(home) = &self.home {
            home.release(&self.state);
        }
    }
}

/// One REST API V2 call.
pub(crate) struct Call {
    pub method: crate::http::Method,
    /// Path after the base URL, segments already encoded.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    /// Send `AP-Device-Identifier` and `X-Device-Info`.
    pub device_headers: bool,
    /// `AP-TempPass-Identity` value.
    pub identity: Option<String>,
    pub body: Option<(&'static str, bytes::Bytes)>,
    /// Which single sign-on headers it carries.
    pub sso: SsoScope,
}

impl Call {
    pub fn get(path: String) -> Self {
        Self {
            method: crate::http::Method::GET,
            path,
            query: Vec::new(),
            device_headers: true,
            identity: None,
            body: None,
            sso: SsoScope::ALL,
        }
    }

    pub fn post(path: String, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            method: crate::http::Method::POST,
            body: Some((content_type, body.into())),
            ..Self::get(path)
        }
    }
}

impl Inner {
    fn request(&self, call: &Call, token: &Secret) -> Request {
        // The base URL is parsed once; only the path and query change per call.
        let mut url = self.base_url.clone();
        url.set_path(&format!(
            "{}{}",
            self.base_url.path().trim_end_matches('/'),
            call.path
        ));
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut headers = if call.device_headers {
            self.device_headers.clone()
        } else {
            self.base_headers.clone()
        };
        if let Some(v) = &self.forwarded_for {
            headers.insert(HeaderName::from_static("x-forwarded-for"), v.clone());
        }
        if let Some(v) = bearer(token.expose()) {
            headers.insert(http::header::AUTHORIZATION, v);
        }
        if let Some(v) = call
            .identity
            .as_deref()
            .and_then(|i| HeaderValue::from_str(i).ok())
        {
            headers.insert(HeaderName::from_static("ap-temppass-identity"), v);
        }
        if call.sso != SsoScope::NONE {
            let sso = self.sso.read().unwrap_or_else(|e| e.into_inner());
            if !sso.is_empty() {
                sso.apply(call.sso, &mut headers);
            }
        }
        Request {
            method: call.method.clone(),
            url,
            path: call.path.clone(),
            headers,
            body: call.body.clone(),
        }
    }

    /// Sends a call with a valid token; a 401 refreshes the token (or registers again for
    /// `application-registration`) once and retries once. Non-2xx answers become errors.
    pub async fn call(&self, call: &Call) -> Result<Answer, PassError> {
        let deadline = self.transport.deadline();
        let mut refreshed = false;
        loop {
            // The cached token is the path of nearly every call; the registration's future is
            // large, so it is boxed where it is needed rather than carried by every call.
            let token = match self.registration.valid_cached() {
                Some(t) => t,
                None => Box::pin(self.registration.token(&self.transport, deadline)).await?,
            };
            let answer = self
                .transport
                .send_paced(
                    &|| self.request(call, &token),
                    deadline,
                    &self.pacing,
                    crate::telemetry::endpoint(&call.method, &call.path),
                )
                .await?;
            if answer.status == 401 && !refreshed {
                refreshed = true;
                if answer
                    .enhanced()
                    .is_some_and(|e| e.action() == ErrorAction::ApplicationRegistration)
                {
                    tracing::info!(
                        "access token refused for the client application; registering again"
                    );
                    self.registration.forget_client(&token);
                    #[cfg(feature = "redis")]
                    self.registration.forget_in_fleet(&token, true).await;
                } else {
                    tracing::info!("access token refused; fetching a new one");
                    self.registration.forget_token(&token);
                    #[cfg(feature = "redis")]
                    self.registration.forget_in_fleet(&token, false).await;
                }
                continue;
            }
            if (200..300).contains(&answer.status) {
                return Ok(answer);
            }
            return Err(answer.into_error());
        }
    }

    /// `/api/v2/{sp}/...` with encoded segments.
    pub fn path(&self, segments: &[&str]) -> String {
        let mut p = String::from("/api/v2/");
        p.push_str(&encode(&self.sp));
        for s in segments {
            p.push('/');
            p.push_str(&encode(s));
        }
        p
    }
}

/// The longest identifier the SDK accepts or sends, in bytes: device id, MVPD, service
/// provider, partner.
pub const MAX_ID_BYTES: usize = 256;

/// The longest resource the SDK sends, in bytes. A resource is a simple string ("REF30") or a
/// media RSS (MRSS) document with a title, ratings and parental-control metadata (the
/// decisions page, "Resource Identifier"); Adobe gives no limit, and 8 KiB holds an MRSS item
/// with several ratings many times over.
pub const MAX_RESOURCE_BYTES: usize = 8 * 1024;

/// Checks an identifier argument: not empty, no control characters, at most
/// [`MAX_ID_BYTES`] bytes.
pub(crate) fn check_id(setting: &'static str, id: &str) -> Result<(), PassError> {
    if id.trim().is_empty() {
        return Err(PassError::config(setting, "must not be empty"));
    }
    if id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) {
        return Err(PassError::config(
            setting,
            "must be at most 256 characters without control characters",
        ));
    }
    Ok(())
}

/// Checks a resource: not blank, at most [`MAX_RESOURCE_BYTES`] bytes, and only characters an
/// MRSS (XML) document holds: tabs, line feeds and carriage returns are taken; other control
/// characters (C0 and C1), U+FFFE and U+FFFF are not. A resource travels in the request's JSON body,
/// never in its path.
pub(crate) fn check_resource(resource: &str) -> Result<(), PassError> {
    if resource.trim().is_empty() {
        return Err(PassError::config("resource", "must not be empty"));
    }
    if resource.len() > MAX_RESOURCE_BYTES {
        return Err(PassError::config(
            "resource",
            "must be at most 8,192 bytes (MAX_RESOURCE_BYTES)",
        ));
    }
    let xml_char = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || !(c.is_control() || c == '\u{fffe}' || c == '\u{ffff}')
    };
    if !resource.chars().all(xml_char) {
        return Err(PassError::config(
            "resource",
            "must hold no control character but tab, line feed or carriage return, nor U+FFFE or \
             U+FFFF",
        ));
    }
    Ok(())
}

/// Checks an identifier that goes in the URL's path as a segment (MVPD, code, partner, service
/// provider): as [`check_id`], and not `.` or `..`, which the URL's parser would fold into the
/// path around it (an MVPD of `..` turns `decisions/authorize/..` into `decisions/`). Their
/// percent-encoded forms need no check: [`encode`] encodes `%`, so `%2e` stays a name.
pub(crate) fn check_segment(setting: &'static str, id: &str) -> Result<(), PassError> {
    check_id(setting, id)?;
    if id == "." || id == ".." {
        return Err(PassError::config(
            setting,
            "must not be \".\" or \"..\" (it goes in the URL's path)",
        ));
    }
    Ok(())
}

/// Percent-encodes a path segment.
pub(crate) fn encode(segment: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

impl PassClient {
    /// The service provider id.
    pub fn service_provider(&self) -> &str {
        &self.inner.sp
    }

    /// The device identifier the SDK sends (given or generated). Keep it private: it is a
    /// stable identifier of the device.
    pub fn device_id(&self) -> &Secret {
        &self.inner.device_id
    }

    /// The base URL of the service.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Registers (when no client credentials are stored) and obtains an access token (when
    /// none is valid), so that the next call needs one request. At most one register and one
    /// token request; nothing when both are cached.
    pub async fn warm_up(&self) -> Result<(), PassError> {
        let inner = &self.inner;
        inner
            .registration
            .token(&inner.transport, inner.transport.deadline())
            .await
            .map(|_| ())
    }

    fn with_sso<T>(&self, f: impl FnOnce(&mut SsoHeaders) -> T) -> T {
        f(&mut self.inner.sso.write().unwrap_or_else(|e| e.into_inner()))
    }

    /// The single sign-on identities in force now.
    pub(crate) fn identity_keys(&self) -> IdentityKeys {
        self.inner
            .sso
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys
            .clone()
    }

    /// Changes the identities; when whom they name changes, the profiles the old identities
    /// brought and the cached preauthorizations are dropped.
    fn change_identity(
        &self,
        f: impl FnOnce(&mut SsoHeaders) -> Result<(), PassError>,
    ) -> Result<(), PassError> {
        let (before, after) = self.with_sso(|s| {
            let before = s.keys.clone();
            f(s).map(|()| (before, s.keys.clone()))
        })?;
        if before != after {
            self.forget_profiles_of(&before.changed(&after));
            self.forget_preauthorizations();
        }
        Ok(())
    }

    /// Sets or clears the platform identity (e.g. after the platform's identity service hands
    /// out a fresh token). A token for another subject, or none, drops the `platformSSO` profiles
    /// of the old one and the cached preauthorizations; the next [`profiles`](Self::profiles)
    /// asks the service.
    pub fn set_platform_identity(
        &self,
        identity: Option<PlatformIdentity>,
    ) -> Result<(), PassError> {
        self.change_identity(|s| s.set_platform_identity(identity.as_ref()))
    }

    /// Sets or clears the service token. A token for another subject, or none, drops the
    /// `serviceTokenSSO` profiles of the old one and the cached preauthorizations.
    pub fn set_service_token(&self, token: Option<&str>) -> Result<(), PassError> {
        self.change_identity(|s| s.set_service_token(token))
    }

    /// Sets or clears the Experience Cloud visitor id.
    pub fn set_visitor_id(&self, ecid: Option<&str>) -> Result<(), PassError> {
        self.with_sso(|s| s.set_visitor(ecid))
    }

    /// Sets or clears the partner framework status sent on profiles and decisions (the partner
    /// calls set it too). Keep it current while the user uses partner single sign-on. Another
    /// provider, or no granted access, drops the `appleSSO` profiles of the old one.
    ///
    /// A status that names a provider without an expiration date is refused with
    /// [`PassError::InvalidConfiguration`] naming `partner_framework_status` (the header's page
    /// requires `expirationDate`); the previous status stays.
    pub fn set_partner_framework_status(
        &self,
        status: Option<&PartnerFrameworkStatus>,
    ) -> Result<(), PassError> {
        if status.is_some_and(PartnerFrameworkStatus::lacks_expiration) {
            return Err(PassError::config(
                "partner_framework_status",
                crate::sso::PartnerStatusProblem::NoExpiration.to_string(),
            ));
        }
        self.change_identity(|s| {
            s.set_partner_status(status);
            Ok(())
        })
    }

    pub(crate) fn forget_preauthorizations(&self) {
        self.inner.state.preauthorized().clear();
        self.inner.state.touch();
    }
}

impl PassClient {
    /// Replaces the device's state with the fleet's, when this handle is a fleet's device and
    /// Redis answers.
    pub(crate) async fn fleet_load(&self) {
        #[cfg(feature = "redis")]
        if let (Some(fleet), Some(home)) = (&self.inner.fleet, &self.inner.home) {
            fleet
                .load_device(&home.fleet_key(), &self.inner.state)
                .await;
        }
    }

    /// Keeps the device's state for the fleet.
    pub(crate) async fn fleet_save(&self) {
        #[cfg(feature = "redis")]
        if let (Some(fleet), Some(home)) = (&self.inner.fleet, &self.inner.home) {
            fleet
                .save_device(&home.fleet_key(), &self.inner.state)
                .await;
        }
    }
}
