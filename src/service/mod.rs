//! Server to server: one [`PassService`] per application and environment calls the service on
//! behalf of many streaming devices. It registers once (one set of client credentials and one
//! access token for the whole process, or the whole fleet with Redis), and hands out a cheap
//! [`PassClient`] per device with [`PassService::device`]: that handle sends the device's own
//! `AP-Device-Identifier`, `X-Device-Info` (with the connection's IP and port) and
//! `X-Forwarded-For`, keeps the device's pace (the service counts 1 request per second after a
//! burst of 10 per device IP), and reads and fills the device's cached profiles and Permits.
//!
//! The per-device state lives in a bounded cache: at most [`PassServiceBuilder::max_devices`]
//! devices and [`PassServiceBuilder::max_cache_bytes`] bytes (estimated), evicted by expiry and
//! least-recent use. An evicted device loses nothing the service does not keep: its next
//! `profiles()` asks the service again.

mod cache;

use crate::builder::PassClientBuilder;
use crate::client::{check_id, Inner, PassClient, Shared};
use crate::config::{DeviceInfo, Environment, FailFast, RateLimit, RetryBudget, RetryPolicy};
use crate::error::PassError;
use crate::http::{HeaderValue, HttpTransport};
use crate::pace::{IpPaces, Pacing};
use crate::secret::Secret;
use crate::sso::{PlatformIdentity, SsoHeaders};
use crate::storage::Storage;
use cache::{device_key, CacheSlot, DeviceCache};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What one device sends with its request to the programmer's service: who it is, where it
/// connects from, and its single sign-on identities.
#[derive(Clone)]
pub struct DeviceContext {
    id: Secret,
    ip: IpAddr,
    port: Option<u16>,
    info: DeviceInfo,
    platform_identity: Option<PlatformIdentity>,
    service_token: Option<Secret>,
    visitor_id: Option<Secret>,
}

impl std::fmt::Debug for DeviceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The id and the address identify a person's device: neither is shown.
        f.debug_struct("DeviceContext")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl DeviceContext {
    /// A device by its stable identifier (as its app sends it) and the public IP address its
    /// request came from (sent as `X-Forwarded-For` and `X-Device-Info`'s `connectionIp`).
    pub fn new(id: impl Into<String>, ip: IpAddr) -> Self {
        Self {
            id: Secret::new(id),
            ip,
            port: None,
            info: DeviceInfo::default(),
            platform_identity: None,
            service_token: None,
            visitor_id: None,
        }
    }

    /// The source port of the device's connection (`X-Device-Info`'s `connectionPort`).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// What the device says about itself. Its own `connection_ip` and `connection_port` are
    /// dropped: the service sends the address of [`new`](Self::new) and the port of
    /// [`port`](Self::port) (none without it), which it observed, never what a device claims.
    pub fn device_info(mut self, info: DeviceInfo) -> Self {
        self.info = info;
        self
    }

    /// The device's platform identity (single sign-on).
    pub fn platform_identity(mut self, identity: PlatformIdentity) -> Self {
        self.platform_identity = Some(identity);
        self
    }

    /// The device user's service token (single sign-on).
    pub fn service_token(mut self, token: impl Into<String>) -> Self {
        self.service_token = Some(Secret::new(token));
        self
    }

    /// The Experience Cloud visitor id of the device's user.
    pub fn visitor_id(mut self, ecid: impl Into<String>) -> Self {
        self.visitor_id = Some(Secret::new(ecid));
        self
    }
}

/// Collects the settings of a [`PassService`]; [`build`](Self::build) checks them all.
#[derive(Clone)]
pub struct PassServiceBuilder {
    client: PassClientBuilder,
    max_devices: usize,
    max_cache_bytes: usize,
    retry_budget: RetryBudget,
    fail_fast: FailFast,
    #[cfg(feature = "redis")]
    redis: Option<crate::fleet::FleetSettings>,
    #[cfg(feature = "redis")]
    instances: u32,
    #[cfg(feature = "redis")]
    redis_timeout: Option<Duration>,
    #[cfg(feature = "redis")]
    fleet_keys: Vec<Secret>,
    #[cfg(feature = "redis")]
    insecure_plaintext: bool,
}

impl std::fmt::Debug for PassServiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassServiceBuilder")
            .field("client", &self.client)
            .field("max_devices", &self.max_devices)
            .field("max_cache_bytes", &self.max_cache_bytes)
            .field("retry_budget", &self.retry_budget)
            .field("fail_fast", &self.fail_fast)
            .finish_non_exhaustive()
    }
}

macro_rules! forward {
    ($(#[$m:meta])* $name:ident: $t:ty) => {
        $(#[$m])*
        pub fn $name(mut self, value: $t) -> Self {
            self.client = self.client.$name(value);
            self
        }
    };
}

impl PassServiceBuilder {
    forward!(
        /// Production (default), staging, or a custom base URL.
        environment: Environment
    );
    forward!(
        /// What the service itself says when it registers (`X-Device-Info` of DCR).
        device_info: DeviceInfo
    );
    forward!(
        /// Retries of transient failures (default: 3 attempts, 30 s per call).
        retry: RetryPolicy
    );
    forward!(
        /// The pace of each device (default: the service's 1 request/s after a burst of 10).
        rate_limit: RateLimit
    );
    forward!(
        /// Timeout of one HTTP request (default 10 s).
        request_timeout: Duration
    );
    forward!(
        /// Interval of authentication polling, 3 to 5 s (default 3 s).
        polling_interval: Duration
    );
    forward!(
        /// Resources per preauthorize request (default 5).
        preauthorize_batch_size: usize
    );
    forward!(
        /// Preauthorize requests of one device in flight at once (default 4).
        preauthorize_concurrency: usize
    );
    forward!(
        /// How long the configuration is cached, at most 5 minutes (default 150 s).
        configuration_ttl: Duration
    );
    forward!(
        /// Largest answer accepted (default 1 MiB).
        max_response_bytes: usize
    );
    forward!(
        /// Where the client credentials and the access token are kept (default: memory).
        storage: Arc<dyn Storage>
    );
    forward!(
        /// The HTTP transport (default: the built-in reqwest transport, whose connections are
        /// re-resolved at least every 30 s).
        http_transport: Arc<dyn HttpTransport>
    );

    /// The service provider (requestor) id.
    pub fn service_provider(mut self, id: impl Into<String>) -> Self {
        self.client = self.client.service_provider(id);
        self
    }

    /// The software statement of the application.
    pub fn software_statement(mut self, statement: impl Into<String>) -> Self {
        self.client = self.client.software_statement(statement);
        self
    }

    /// The storage namespace (see [`PassClientBuilder::storage_namespace`]).
    pub fn storage_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.client = self.client.storage_namespace(namespace);
        self
    }

    /// The domain sent when creating sessions (default `adobe.com`).
    pub fn domain_name(mut self, domain: impl Into<String>) -> Self {
        self.client = self.client.domain_name(domain);
        self
    }

    /// Where the user agent goes after login and logout (default `https://adobe.com`).
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.client = self.client.redirect_url(url);
        self
    }

    /// The `User-Agent` header (default `tvpass/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.client = self.client.user_agent(ua);
        self
    }

    /// Most devices whose state (profiles, Permits, pace) is kept (default 100,000; 1 to
    /// 10,000,000). The least recently used go first.
    pub fn max_devices(mut self, n: usize) -> Self {
        self.max_devices = n;
        self
    }

    /// Most bytes of device state kept, as estimated from what each holds (default 64 MiB; at
    /// least 64 KiB). The least recently used go first.
    pub fn max_cache_bytes(mut self, bytes: usize) -> Self {
        self.max_cache_bytes = bytes;
        self
    }

    /// The retry budget every device shares (default: retries add at most 10 % of the calls of
    /// the last 10 s, or 5 a second if that is more). See [`RetryBudget`].
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.retry_budget = budget;
        self
    }

    /// When the service stops sending while Adobe Pass is down (default: after 20 failed
    /// requests in a row, for 1 s to 1.5 s, then 3 probes). See [`FailFast`].
    pub fn fail_fast(mut self, fail_fast: FailFast) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// Shares the fleet's state in Redis (feature `redis`), e.g. `redis://127.0.0.1:6379/0`:
    /// client credentials, the access token, each device's profiles and Permits and its pace.
    /// The connection opens on first use; building never waits for Redis.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        let mut settings = self.redis.take().unwrap_or(crate::fleet::FleetSettings {
            url: String::new(),
            instances: 1,
            timeout: Duration::from_millis(250),
            sealer: crate::seal::Sealer::plaintext(),
        });
        settings.url = url.into();
        self.redis = Some(settings);
        self
    }

    /// How many instances the fleet runs (default 1, at most 1,000): while Redis cannot be
    /// reached, each instance keeps every device to its share of the pace (the limit divided by
    /// this), so that together they stay within it.
    #[cfg(feature = "redis")]
    pub fn fleet_instances(mut self, n: u32) -> Self {
        self.instances = n;
        self
    }

    /// The longest a Redis command may take before this instance serves from its own state
    /// (default 250 ms, 10 ms to 5 s).
    #[cfg(feature = "redis")]
    pub fn redis_timeout(mut self, timeout: Duration) -> Self {
        self.redis_timeout = Some(timeout);
        self
    }

    /// The key that seals the fleet's values in Redis (feature `redis`): 32 bytes in base64,
    /// e.g. from `openssl rand -base64 32`. The client credentials, the access token and
    /// devices' profiles are sealed with AES-256-GCM under it; anyone who reads Redis without
    /// it learns nothing of them. Required with [`redis`](Self::redis), unless
    /// [`insecure_plaintext`](Self::insecure_plaintext).
    #[cfg(feature = "redis")]
    pub fn fleet_key(mut self, base64_key: impl Into<String>) -> Self {
        let key = Secret::new(base64_key);
        match self.fleet_keys.first_mut() {
            Some(first) => *first = key,
            None => self.fleet_keys.push(key),
        }
        self
    }

    /// A key values may still be sealed with (feature `redis`): values sealed with it are read,
    /// and written again under [`fleet_key`](Self::fleet_key). Rotating: give every instance
    /// the new key and the old one as previous; drop the old one once its values have expired
    /// or been written again (the credentials are written again only when the fleet
    /// registers, so keep the old key until then, or until a new registration is fine).
    #[cfg(feature = "redis")]
    pub fn fleet_previous_key(mut self, base64_key: impl Into<String>) -> Self {
        if self.fleet_keys.is_empty() {
            // The current key's place, kept for fleet_key.
            self.fleet_keys.push(Secret::new(""));
        }
        self.fleet_keys.push(Secret::new(base64_key));
        self
    }

    /// Keeps the fleet's values in Redis in plain text (feature `redis`): anyone who can read
    /// that Redis can then use the programmer's registration. Only for a Redis no one else can
    /// reach, such as a test's.
    #[cfg(feature = "redis")]
    pub fn insecure_plaintext(mut self) -> Self {
        self.insecure_plaintext = true;
        self
    }

    #[cfg(feature = "redis")]
    fn sealer(&self) -> Result<crate::seal::Sealer, PassError> {
        use crate::seal::{decode_key, Sealer};
        let current = self.fleet_keys.first().map(Secret::expose).unwrap_or("");
        if current.is_empty() {
            if self.insecure_plaintext {
                tracing::warn!("the fleet keeps its values in Redis in plain text");
                return Ok(Sealer::plaintext());
            }
            return Err(PassError::config(
                "fleet_key",
                "required with redis: 32 bytes in base64 (or insecure_plaintext, explicitly)",
            ));
        }
        let current = decode_key(current, "fleet_key")?;
        let previous = self.fleet_keys[1..]
            .iter()
            .map(|k| decode_key(k.expose(), "fleet_previous_key"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Sealer::new(&current, &previous))
    }

    /// Checks every setting and builds the service.
    pub fn build(self) -> Result<PassService, PassError> {
        if !(1..=10_000_000).contains(&self.max_devices) {
            return Err(PassError::config("max_devices", "must be 1 to 10,000,000"));
        }
        if self.max_cache_bytes < 64 * 1024 {
            return Err(PassError::config(
                "max_cache_bytes",
                "must be at least 64 KiB",
            ));
        }
        self.retry_budget.check()?;
        self.fail_fast.check()?;
        let guard = crate::guard::Guard::new(self.retry_budget.clone(), self.fail_fast.clone());
        #[allow(unused_mut)]
        let (mut shared, _store) = self.client.build_service_part(guard)?;
        #[allow(unused_mut)]
        let mut device_rate = self.client.rate_limit_setting();
        #[cfg(feature = "redis")]
        let fleet = match &self.redis {
            Some(settings) => {
                let mut settings = settings.clone();
                settings.instances = self.instances;
                settings.timeout = self.redis_timeout.unwrap_or(settings.timeout);
                settings.sealer = self.sealer()?;
                if !(1..=1000).contains(&settings.instances) {
                    return Err(PassError::config("fleet_instances", "must be 1 to 1,000"));
                }
                if settings.timeout < Duration::from_millis(10)
                    || settings.timeout > Duration::from_secs(5)
                {
                    return Err(PassError::config("redis_timeout", "must be 10 ms to 5 s"));
                }
                let fleet = Arc::new(crate::fleet::Fleet::new(
                    &settings,
                    &shared.sp,
                    &shared.base,
                    device_rate.clone(),
                )?);
                device_rate = crate::fleet::Fleet::fallback_rate(&device_rate, settings.instances);
                let s = Arc::get_mut(&mut shared)
                    .ok_or_else(|| PassError::config("redis", "the service is already in use"))?;
                s.fleet = Some(fleet.clone());
                s.registration.set_fleet(fleet.clone());
                Some(fleet)
            }
            None => None,
        };
        let cache = Arc::new(DeviceCache::new(self.max_devices, self.max_cache_bytes));
        let paces = Arc::new(IpPaces::new(self.max_devices, device_rate));
        Ok(PassService {
            shared,
            cache,
            paces,
            #[cfg(feature = "redis")]
            fleet,
        })
    }
}

/// The SDK for a programmer's service that calls Adobe Pass on behalf of many devices. Build it
/// once; it is cheap to clone. See the [module documentation](self).
#[derive(Clone)]
pub struct PassService {
    shared: Arc<Shared>,
    cache: Arc<DeviceCache>,
    /// The pace of each device IP.
    paces: Arc<IpPaces>,
    #[cfg(feature = "redis")]
    fleet: Option<Arc<crate::fleet::Fleet>>,
}

impl std::fmt::Debug for PassService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassService")
            .field("base_url", &self.shared.base)
            .field("service_provider", &self.shared.sp)
            .field("devices", &self.cached_devices())
            .finish_non_exhaustive()
    }
}

impl PassService {
    /// A builder with the defaults.
    pub fn builder() -> PassServiceBuilder {
        PassServiceBuilder {
            client: PassClientBuilder::default(),
            max_devices: 100_000,
            max_cache_bytes: 64 * 1024 * 1024,
            retry_budget: RetryBudget::default(),
            fail_fast: FailFast::default(),
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "redis")]
            instances: 1,
            #[cfg(feature = "redis")]
            redis_timeout: None,
            #[cfg(feature = "redis")]
            fleet_keys: Vec::new(),
            #[cfg(feature = "redis")]
            insecure_plaintext: false,
        }
    }

    /// The service provider id.
    pub fn service_provider(&self) -> &str {
        &self.shared.sp
    }

    /// Registers (when no client credentials are kept) and obtains an access token (when none
    /// is valid), so that the first device call needs one request.
    pub async fn warm_up(&self) -> Result<(), PassError> {
        let s = &self.shared;
        s.registration
            .token(&s.transport, s.transport.deadline())
            .await
            .map(|_| ())
    }

    /// A client for one device, offering every call a [`PassClient`] offers. Cheap: it shares
    /// the service's registration, pipeline and configuration, and picks up the device's
    /// cached profiles and Permits; drop it when the device's request is answered.
    ///
    /// The device id must be 1 to 256 characters without control characters; the device info
    /// must use the documented values. Either is refused with
    /// [`PassError::InvalidConfiguration`].
    pub fn device(&self, device: DeviceContext) -> Result<PassClient, PassError> {
        check_id("device_id", device.id.expose())?;
        let mut info = device.info;
        let ip = device.ip.to_string();
        let forwarded = HeaderValue::from_str(&ip).ok();
        // The connection as observed, whatever the device says of it.
        info.connection_ip = Some(ip);
        info.connection_port = device.port;
        info.validate()?;
        let mut sso = SsoHeaders::default();
        sso.set_platform_identity(device.platform_identity.as_ref())?;
        sso.set_service_token(device.service_token.as_ref().map(Secret::expose))?;
        sso.set_visitor(device.visitor_id.as_ref().map(Secret::expose))?;
        let headers = self
            .shared
            .device_headers(&info.checked_header_value()?, &device.id);
        let key = device_key(&self.shared.sp, device.id.expose());
        let (state, version) = self.cache.checkout(key);
        let pacing = self.pacing(device.ip);
        Ok(PassClient {
            inner: Arc::new(Inner {
                shared: self.shared.clone(),
                device_id: device.id,
                device_headers: headers,
                forwarded_for: forwarded,
                sso: RwLock::new(sso),
                state,
                pacing,
                home: Some(Box::new(CacheSlot::new(self.cache.clone(), key, version))),
            }),
        })
    }

    fn pacing(&self, ip: IpAddr) -> Pacing {
        let local = self.paces.of(ip);
        #[cfg(feature = "redis")]
        if let Some(fleet) = &self.fleet {
            return Pacing::Shared(Arc::new(fleet.pacer(ip, local)));
        }
        Pacing::Ip(local)
    }

    /// Redis commands this instance has sent (feature `redis`; 0 without a fleet).
    #[cfg(feature = "redis")]
    pub fn redis_round_trips(&self) -> u64 {
        self.fleet.as_ref().map_or(0, |f| f.round_trips())
    }

    /// Whether calls fail fast now (see [`FailFast`]), and for about how long until the next
    /// probe (zero while probes are out); `None` while calls go through.
    pub fn failing_fast(&self) -> Option<Duration> {
        self.shared.transport.failing_fast()
    }

    /// Whether the fleet's Redis answers now (feature `redis`): `None` without a fleet. While
    /// it does not, the service answers from this instance's state, and tries Redis again at
    /// most once a second.
    #[cfg(feature = "redis")]
    pub async fn redis_reachable(&self) -> Option<bool> {
        match &self.fleet {
            Some(f) => Some(f.ping().await),
            None => None,
        }
    }

    /// How many devices' state is kept now.
    pub fn cached_devices(&self) -> usize {
        self.cache.devices()
    }

    /// The estimated bytes of device state kept now.
    pub fn cached_bytes(&self) -> usize {
        self.cache.bytes()
    }
}
