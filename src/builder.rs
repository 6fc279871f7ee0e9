//! [`PassClientBuilder`]: every setting of a [`PassClient`], checked at once by
//! [`build`](PassClientBuilder::build); also the part a service shares by all its devices.

use crate::client::{check_id, check_segment, Inner, PassClient, Shared};
use crate::config::{check_base_url, DeviceInfo, Environment, RateLimit, RetryPolicy};
use crate::device::DeviceState;
use crate::digest::{hex, sha256};
use crate::error::PassError;
use crate::http::{HeaderValue, HttpTransport};
use crate::registration::Registration;
use crate::secret::Secret;
use crate::sso::{PlatformIdentity, SsoHeaders};
use crate::storage::{MemoryStorage, Storage, Store};
use crate::transport::{header_map, Transport};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Collects the settings of a [`PassClient`]; [`build`](Self::build) checks them all.
#[derive(Clone)]
pub struct PassClientBuilder {
    environment: Environment,
    service_provider: Option<String>,
    software_statement: Option<Secret>,
    device_info: DeviceInfo,
    device_id: Option<Secret>,
    storage: Option<Arc<dyn Storage>>,
    retry: RetryPolicy,
    rate_limit: RateLimit,
    request_timeout: Duration,
    polling_interval: Duration,
    preauthorize_batch_size: usize,
    preauthorize_concurrency: usize,
    configuration_ttl: Duration,
    domain_name: String,
    redirect_url: String,
    user_agent: String,
    max_response_bytes: usize,
    platform_identity: Option<PlatformIdentity>,
    service_token: Option<Secret>,
    visitor_id: Option<Secret>,
    storage_namespace: Option<String>,
    http_transport: Option<Arc<dyn HttpTransport>>,
}

impl std::fmt::Debug for PassClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassClientBuilder")
            .field("environment", &self.environment)
            .field("service_provider", &self.service_provider)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl Default for PassClientBuilder {
    fn default() -> Self {
        Self {
            environment: Environment::Production,
            service_provider: None,
            software_statement: None,
            device_info: DeviceInfo::default(),
            device_id: None,
            storage: None,
            retry: RetryPolicy::default(),
            rate_limit: RateLimit::default(),
            request_timeout: Duration::from_secs(10),
            polling_interval: Duration::from_secs(3),
            preauthorize_batch_size: 5,
            preauthorize_concurrency: 4,
            configuration_ttl: Duration::from_secs(150),
            domain_name: "adobe.com".into(),
            redirect_url: "https://adobe.com".into(),
            user_agent: concat!("tvpass/", env!("CARGO_PKG_VERSION")).into(),
            max_response_bytes: 1024 * 1024,
            platform_identity: None,
            service_token: None,
            visitor_id: None,
            storage_namespace: None,
            http_transport: None,
        }
    }
}

macro_rules! setter {
    ($(#[$m:meta])* $name:ident: $t:ty) => {
        $(#[$m])*
        pub fn $name(mut self, value: $t) -> Self {
            self.$name = value;
            self
        }
    };
}

impl PassClientBuilder {
    setter!(
        /// Production (default), staging, or a custom base URL.
        environment: Environment
    );
    setter!(
        /// What the device says about itself (`X-Device-Info`).
        device_info: DeviceInfo
    );
    setter!(
        /// Retries of transient failures (default: 3 attempts, 30 s per call).
        retry: RetryPolicy
    );
    setter!(
        /// Client-side pacing (default: the service's 1 request/s after a burst of 10).
        rate_limit: RateLimit
    );
    setter!(
        /// Timeout of one HTTP request (default 10 s).
        request_timeout: Duration
    );
    setter!(
        /// Interval of authentication polling, 3 to 5 s (default 3 s).
        polling_interval: Duration
    );
    setter!(
        /// Resources per preauthorize request (default 5, the service's usual limit).
        preauthorize_batch_size: usize
    );
    setter!(
        /// Preauthorize requests in flight at once (default 4).
        preauthorize_concurrency: usize
    );
    setter!(
        /// How long the configuration is cached in memory, 2 to 3 minutes (default 150 s).
        configuration_ttl: Duration
    );
    setter!(
        /// Largest answer accepted (default 1 MiB).
        max_response_bytes: usize
    );

    /// The service provider (requestor) id, e.g. `REF30`.
    pub fn service_provider(mut self, id: impl Into<String>) -> Self {
        self.service_provider = Some(id.into());
        self
    }

    /// The software statement from the TVE Dashboard.
    pub fn software_statement(mut self, statement: impl Into<String>) -> Self {
        self.software_statement = Some(Secret::new(statement));
        self
    }

    /// A stable device identifier from the platform (e.g. a hash of `identifierForVendor` or
    /// `ANDROID_ID`), 1 to 256 bytes without control characters. Without it, one is generated
    /// once and kept in storage.
    pub fn device_id(mut self, id: impl Into<String>) -> Self {
        self.device_id = Some(Secret::new(id));
        self
    }

    /// Where credentials, tokens and profiles are kept (default: memory only).
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// The domain sent when creating sessions (default `adobe.com`).
    pub fn domain_name(mut self, domain: impl Into<String>) -> Self {
        self.domain_name = domain.into();
        self
    }

    /// Where the user agent goes after login and logout (default `https://adobe.com`).
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = url.into();
        self
    }

    /// The `User-Agent` header (default `tvpass/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Single sign-on with a platform identity (Amazon Fire TV's `Adobe-Subject-Token`, Roku's
    /// connect token): sent on session creation, profiles, decisions and logout. Change it later
    /// with [`PassClient::set_platform_identity`].
    pub fn platform_identity(mut self, identity: PlatformIdentity) -> Self {
        self.platform_identity = Some(identity);
        self
    }

    /// Single sign-on with a service token (`AD-Service-Token`, a JWS from your identity
    /// service): sent on session creation, profiles, decisions and logout. Change it later with
    /// [`PassClient::set_service_token`].
    pub fn service_token(mut self, token: impl Into<String>) -> Self {
        self.service_token = Some(Secret::new(token));
        self
    }

    /// The Experience Cloud visitor id (`AP-Visitor-Identifier`), sent on every session,
    /// profile, partner, decision and logout call.
    pub fn visitor_id(mut self, ecid: impl Into<String>) -> Self {
        self.visitor_id = Some(Secret::new(ecid));
        self
    }

    /// The namespace of the values kept in storage (default: one derived from the base URL, so
    /// that production and staging never share credentials). Set it when the base URL changes
    /// between runs but the server stays the same, such as a local emulator on a new port.
    /// Letters, digits, `-` and `_`, at most 64.
    pub fn storage_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.storage_namespace = Some(namespace.into());
        self
    }

    /// The app's own HTTP transport (the platform's HTTP stack). Default: the built-in reqwest
    /// transport (feature `reqwest-transport`); a build without it needs one. Pacing, retries,
    /// deadlines, the response cap and error decoding stay in the SDK whatever sends.
    pub fn http_transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.http_transport = Some(transport);
        self
    }

    /// Checks every setting and builds the client.
    pub fn build(self) -> Result<PassClient, PassError> {
        let (base, sp, statement) = self.check_settings()?;
        self.device_info.validate()?;
        self.device_info.checked_header_value()?;
        if let Some(id) = &self.device_id {
            check_id("device_id", id.expose())?;
        }
        let mut sso = SsoHeaders::default();
        sso.set_platform_identity(self.platform_identity.as_ref())?;
        sso.set_service_token(self.service_token.as_ref().map(Secret::expose))?;
        sso.set_visitor(self.visitor_id.as_ref().map(Secret::expose))?;
        self.build_device(base, sp, statement, sso)
    }

    /// Checks the settings every device shares; returns the base URL, the service provider and
    /// the software statement.
    fn check_settings(&self) -> Result<(String, String, Secret), PassError> {
        let base = check_base_url("environment", self.environment.api_base())?;
        let sp = self
            .service_provider
            .clone()
            .ok_or_else(|| PassError::config("service_provider", "required"))?;
        check_segment("service_provider", &sp)?;
        let statement = self
            .software_statement
            .clone()
            .filter(|s| !s.expose().trim().is_empty())
            .ok_or_else(|| PassError::config("software_statement", "required"))?;
        let r = &self.retry;
        if !(1..=5).contains(&r.max_attempts) {
            return Err(PassError::config("retry.max_attempts", "must be 1 to 5"));
        }
        if r.initial_backoff.is_zero() || r.max_backoff < r.initial_backoff {
            return Err(PassError::config(
                "retry.initial_backoff",
                "must be positive and at most max_backoff",
            ));
        }
        if r.deadline < Duration::from_secs(1) || r.deadline > Duration::from_secs(300) {
            return Err(PassError::config("retry.deadline", "must be 1 s to 5 min"));
        }
        let rl = &self.rate_limit;
        if rl.enabled
            && (!(rl.requests_per_second > 0.0 && rl.requests_per_second <= 100.0) || rl.burst == 0)
        {
            return Err(PassError::config(
                "rate_limit",
                "requests_per_second must be in (0, 100] and burst at least 1",
            ));
        }
        if self.request_timeout < Duration::from_millis(100)
            || self.request_timeout > Duration::from_secs(120)
        {
            return Err(PassError::config(
                "request_timeout",
                "must be 100 ms to 2 min",
            ));
        }
        if self.polling_interval < Duration::from_secs(3)
            || self.polling_interval > Duration::from_secs(5)
        {
            return Err(PassError::config(
                "polling_interval",
                "must be 3 to 5 seconds",
            ));
        }
        if !(1..=50).contains(&self.preauthorize_batch_size) {
            return Err(PassError::config(
                "preauthorize_batch_size",
                "must be 1 to 50",
            ));
        }
        if !(1..=16).contains(&self.preauthorize_concurrency) {
            return Err(PassError::config(
                "preauthorize_concurrency",
                "must be 1 to 16",
            ));
        }
        if self.configuration_ttl > Duration::from_secs(300) {
            return Err(PassError::config(
                "configuration_ttl",
                "must be at most 5 minutes",
            ));
        }
        if self.max_response_bytes < 4096 {
            return Err(PassError::config(
                "max_response_bytes",
                "must be at least 4096",
            ));
        }
        if self.domain_name.trim().is_empty() {
            return Err(PassError::config("domain_name", "must not be empty"));
        }
        url::Url::parse(&self.redirect_url)
            .map_err(|e| PassError::config("redirect_url", e.to_string()))?;
        if self.user_agent.is_empty() || HeaderValue::from_str(&self.user_agent).is_err() {
            return Err(PassError::config(
                "user_agent",
                "must be a valid header value",
            ));
        }
        Ok((base, sp, statement))
    }

    fn build_device(
        self,
        base: String,
        sp: String,
        statement: Secret,
        sso: SsoHeaders,
    ) -> Result<PassClient, PassError> {
        let (shared, store) = self.build_shared(base, sp, statement, None)?;
        let device_id = match self.device_id.clone() {
            Some(id) => id,
            None => match store.load::<String>("device_id") {
                // What storage gives back is checked like a given id: a corrupt or foreign
                // value is replaced, never sent.
                Some(id) if check_id("device_id", &id).is_ok() => Secret::new(id),
                _ => {
                    let id = generate_device_id();
                    store.save("device_id", &id);
                    Secret::new(id)
                }
            },
        };
        let device_headers = shared.device_headers(&self.device_info.header_value(), &device_id);
        let state = DeviceState::new(Some(store));
        // One device: its calls and the registration keep one pace, as the service counts them.
        let pacing = shared.transport.pacing().clone();
        Ok(PassClient {
            inner: Arc::new(Inner {
                shared,
                device_id,
                device_headers,
                forwarded_for: None,
                sso: RwLock::new(sso),
                state: Arc::new(state),
                pacing,
                #[cfg(feature = "service")]
                home: None,
            }),
        })
    }

    /// The checked settings every device shares: the service, the pipeline, the registration
    /// and the configuration cache. Returns the storage of the values kept, too.
    pub(crate) fn build_shared(
        &self,
        base: String,
        sp: String,
        statement: Secret,
        guard: Option<crate::guard::Guard>,
    ) -> Result<(Arc<Shared>, Arc<Store>), PassError> {
        let http = match &self.http_transport {
            Some(t) => t.clone(),
            None => crate::http::default_transport()?,
        };
        let storage = self
            .storage
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryStorage::new()));
        let scope = match &self.storage_namespace {
            Some(n) => {
                if n.is_empty()
                    || n.len() > 64
                    || !n
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(PassError::config(
                        "storage_namespace",
                        "must be 1 to 64 letters, digits, - or _",
                    ));
                }
                n.clone()
            }
            None => hex(&sha256(&base)[..4]),
        };
        let store = Arc::new(Store::new(storage, format!("tvpass.{sp}.{scope}")));
        let common = vec![
            ("accept", "application/json".to_string()),
            ("user-agent", self.user_agent.clone()),
            ("x-device-info", self.device_info.header_value()),
        ];
        let transport = Transport::new(
            http,
            self.rate_limit.clone(),
            self.retry.clone(),
            self.request_timeout,
            self.max_response_bytes,
        );
        let transport = match guard {
            Some(g) => transport.with_guard(g),
            None => transport,
        };
        let registration = Registration::new(base.clone(), statement, None, common, store.clone());
        let base_headers = header_map(&[
            ("accept", "application/json".to_string()),
            ("user-agent", self.user_agent.clone()),
        ]);
        let shared = Shared {
            base_url: crate::transport::parse_url(&base)?,
            base_headers,
            base,
            sp,
            transport,
            registration,
            polling_interval: self.polling_interval,
            batch: self.preauthorize_batch_size,
            concurrency: self.preauthorize_concurrency,
            configuration_ttl: self.configuration_ttl,
            domain_name: self.domain_name.clone(),
            redirect_url: self.redirect_url.clone(),
            configuration: Mutex::new(None),
            #[cfg(feature = "redis")]
            fleet: None,
        };
        Ok((Arc::new(shared), store))
    }

    /// The pace each device keeps.
    #[cfg(feature = "service")]
    pub(crate) fn rate_limit_setting(&self) -> RateLimit {
        self.rate_limit.clone()
    }

    /// Checks the settings a service shares by all its devices and builds that part.
    #[cfg(feature = "service")]
    pub(crate) fn build_service_part(
        &self,
        guard: crate::guard::Guard,
    ) -> Result<(Arc<Shared>, Arc<Store>), PassError> {
        let (base, sp, statement) = self.check_settings()?;
        self.build_shared(base, sp, statement, Some(guard))
    }
}

fn generate_device_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let s = std::collections::hash_map::RandomState::new();
    let mut bytes = Vec::with_capacity(64);
    for i in 0..4u64 {
        let mut h = s.build_hasher();
        h.write_u64(i);
        h.write_u128(crate::time::since_epoch().as_nanos());
        #[cfg(not(target_arch = "wasm32"))]
        h.write_u32(std::process::id());
        bytes.extend_from_slice(&h.finish().to_le_bytes());
    }
    // On wasm32 std has no entropy (its hash keys are fixed): the platform's
    // crypto.getRandomValues gives it.
    #[cfg(target_arch = "wasm32")]
    {
        let mut random = [0u8; 32];
        if getrandom::getrandom(&mut random).is_ok() {
            bytes.extend_from_slice(&random);
        }
    }
    hex(&Sha256::digest(&bytes))
}

impl PassClient {
    /// A builder with the defaults.
    pub fn builder() -> PassClientBuilder {
        PassClientBuilder::default()
    }
}
