//! The `PassClient` export: every call of the core's client, adapted (types converted, calls made
//! cancellable), with no logic of its own; and the TempPass identity hash.

// Errors cross the boundary by value as uniffi records; boxing them is not possible there.
#![allow(clippy::result_large_err)]

use super::cancel::{cancellable, CancellationToken};
use super::config::ClientConfig;
use super::core;
use super::decision::{Decision, LogoutAction};
use super::error::{PassError, Result};
use super::host::{self, foreign_transport, BlockingHttpTransport, HttpTransport};
use super::model::{Configuration, Mvpd, Profile, Session, TempPassInfo};
use super::sso::PartnerFrameworkStatus;
use super::storage::{ListenerAdapter, PollListener, Storage, StorageAdapter, StorageError};
use std::sync::Arc;
use std::time::Duration;

/// The SDK client for Swift and Kotlin.
#[derive(uniffi::Object)]
pub struct PassClient {
    inner: core::PassClient,
    storage: Option<Arc<StorageAdapter>>,
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
            .software_statement(config.software_statement.0)
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
        let storage = storage.map(|s| Arc::new(StorageAdapter::new(s)));
        if let Some(s) = &storage {
            b = b.storage(s.clone());
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
            b = b.device_id(id.0);
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
        Ok(Arc::new(Self {
            inner: b.build()?,
            storage,
        }))
    }

    /// The latest failure of the app's `Storage` since the client was built (its reads at build
    /// time included), or none. Each failure is also logged once at `warn`; the calls went on
    /// without the value (a failed read counts as missing, a failed write lasts for the process).
    pub fn last_storage_error(&self) -> Option<StorageError> {
        self.storage.as_ref().and_then(|s| s.last_error())
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
