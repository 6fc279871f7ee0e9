//! Everything the emulator remembers, in memory.

use crate::clock::Clock;
use crate::config::{EmulatorConfig, ThrottlingConfig};
use crate::faults::FaultRule;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// A registered client application.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    /// The client secret.
    pub secret: String,
    /// The service provider its software statement names.
    pub service_provider: String,
    /// Revoked through the admin API.
    pub revoked: bool,
}

/// An issued access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    /// The client it was issued to.
    pub client_id: String,
    /// Expiry, in emulator milliseconds.
    pub expires_at: i64,
}

/// An authentication session, identified by its code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Service provider.
    pub service_provider: String,
    /// Opaque session id.
    pub session_id: String,
    /// Decoded device identifier of the device that created it.
    pub device_id: Option<String>,
    /// Parameters given so far.
    pub mvpd: Option<String>,
    /// Domain given so far.
    pub domain_name: Option<String>,
    /// Redirect URL given so far.
    pub redirect_url: Option<String>,
    /// Device information JSON of the creating device.
    pub device_info: Option<Value>,
    /// Validity window.
    pub not_before: i64,
    /// Validity window.
    pub not_after: i64,
    /// Set when the user completed authentication.
    pub completed: bool,
    /// The platform identity the creating app presented (single sign-on).
    pub platform_subject: Option<String>,
    /// The service-token user the creating app presented (single sign-on).
    pub service_subject: Option<String>,
}

impl Session {
    /// A new session of a device, valid for the configured session lifetime from `now`, with no
    /// parameter given yet.
    pub fn new(
        shared: &Shared,
        service_provider: &str,
        device_id: String,
        device_info: Option<Value>,
        now: i64,
    ) -> Self {
        Self {
            service_provider: service_provider.to_string(),
            session_id: shared.uuid(),
            device_id: Some(device_id),
            mvpd: None,
            domain_name: None,
            redirect_url: None,
            device_info,
            not_before: now,
            not_after: now + shared.config.session_ttl_secs as i64 * 1000,
            completed: false,
            platform_subject: None,
            service_subject: None,
        }
    }

    /// Parameters still missing before the user can authenticate.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if self.mvpd.is_none() {
            m.push("mvpd");
        }
        if self.domain_name.is_none() {
            m.push("domainName");
        }
        if self.redirect_url.is_none() {
            m.push("redirectUrl");
        }
        m
    }
}

/// An authenticated (or degraded) profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    /// Validity window.
    pub not_before: i64,
    /// Validity window.
    pub not_after: i64,
    /// `regular`, `degraded`, `appleSSO`, `platformSSO` or `serviceTokenSSO`.
    pub kind: String,
    /// Issuer: the MVPD or `Adobe`.
    pub issuer: String,
    /// User metadata, already in `{value, state}` form.
    pub attributes: Map<String, Value>,
}

/// A TempPass trial.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trial {
    /// Devices that used it.
    pub devices: HashSet<String>,
    /// Identifier hashes that used it (promotional).
    pub identities: HashSet<String>,
    /// Time of the first authorization.
    pub started_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Resources played, in order (promotional).
    pub used_assets: Vec<String>,
}

/// One request as the emulator received it.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Every header, lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// Emulator time of arrival, in milliseconds.
    pub time_ms: i64,
    /// The status answered (0 if the connection was dropped before an answer).
    pub status: u16,
}

impl LoggedRequest {
    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The protocol state: clients, tokens, sessions, profiles, trials.
#[derive(Debug, Default)]
pub struct State {
    /// By client id.
    pub clients: HashMap<String, Client>,
    /// By access token.
    pub tokens: HashMap<String, Token>,
    /// By code.
    pub sessions: HashMap<String, Session>,
    /// By (service provider, device id), then MVPD.
    pub profiles: HashMap<(String, String), BTreeMap<String, Profile>>,
    /// By (service provider, TempPass MVPD).
    pub trials: HashMap<(String, String), Vec<Trial>>,
    /// Single sign-on profiles by (method, subject), then MVPD: shared by every app that
    /// presents the same platform identity (`platform`) or service-token user (`service`).
    pub sso_profiles: HashMap<(String, String), BTreeMap<String, Profile>>,
    /// Partner authentication requests handed out, by request id.
    pub partner_requests: HashMap<String, PartnerRequest>,
    /// Partner authentication responses the emulated partner issued, by response id.
    pub partner_responses: HashMap<String, PartnerResponse>,
}

/// A partner authentication request (SAML request) handed to a device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerRequest {
    /// Service provider.
    pub service_provider: String,
    /// The MVPD the partner framework selected.
    pub mvpd: String,
    /// Expiry.
    pub expires_at: i64,
}

/// A partner authentication response (SAML response) the emulated partner issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerResponse {
    /// Service provider.
    pub service_provider: String,
    /// The MVPD the user logged in with.
    pub mvpd: String,
    /// User metadata.
    pub attributes: Map<String, Value>,
    /// Expiry.
    pub expires_at: i64,
}

/// Per-device token buckets for throttling.
#[derive(Debug)]
pub struct Throttle {
    /// Current settings.
    pub config: ThrottlingConfig,
    /// Device key -> (tokens, last refill ms).
    pub buckets: HashMap<String, (f64, i64)>,
}

impl Throttle {
    /// Takes one token for the device; false when the device is over its limit.
    pub fn admit(&mut self, device: &str, now: i64) -> bool {
        if !self.config.enabled {
            return true;
        }
        let rate = self.config.requests_per_second;
        // Capacity = sustained second + one-time burst; it matches the documented scenario table.
        let capacity = self.config.burst as f64 + rate;
        let (tokens, last) = self
            .buckets
            .entry(device.to_string())
            .or_insert((capacity, now));
        let elapsed = (now - *last).max(0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed * rate).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// All the emulator's shared state.
#[derive(Debug)]
pub struct Shared {
    /// The configuration it was started with.
    pub config: EmulatorConfig,
    /// The controllable clock.
    pub clock: Clock,
    state: Mutex<State>,
    log: Mutex<VecDeque<LoggedRequest>>,
    /// Pending fault injections.
    pub faults: Mutex<Vec<FaultRule>>,
    /// Throttling buckets and settings.
    pub throttle: Mutex<Throttle>,
    ids: AtomicU64,
    random: RandomState,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked while holding the lock leaves consistent-enough data behind.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Fresh state for a configuration.
    pub fn new(config: EmulatorConfig) -> Self {
        let throttle = Throttle {
            config: config.throttling,
            buckets: HashMap::new(),
        };
        Self {
            config,
            clock: Clock::default(),
            state: Mutex::new(State::default()),
            log: Mutex::new(VecDeque::new()),
            faults: Mutex::new(Vec::new()),
            throttle: Mutex::new(throttle),
            ids: AtomicU64::new(1),
            random: RandomState::new(),
        }
    }

    /// The protocol state, locked.
    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The request log, locked.
    pub fn log(&self) -> MutexGuard<'_, VecDeque<LoggedRequest>> {
        lock(&self.log)
    }

    /// Appends to the request log, dropping the oldest entries past capacity.
    pub fn record(&self, entry: LoggedRequest) {
        let mut log = self.log();
        if log.len() >= self.config.request_log_capacity.max(1) {
            log.pop_front();
        }
        log.push_back(entry);
    }

    /// Fault rules, locked.
    pub fn faults(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        lock(&self.faults)
    }

    /// Throttling, locked.
    pub fn throttle(&self) -> MutexGuard<'_, Throttle> {
        lock(&self.throttle)
    }

    /// An unpredictable 64-bit value (ids, secrets, tokens).
    pub fn random_u64(&self) -> u64 {
        let mut h = self.random.build_hasher();
        h.write_u64(self.ids.fetch_add(1, Ordering::Relaxed));
        h.write_i64(self.clock.now_ms());
        h.finish()
    }

    /// An opaque identifier in UUID form.
    pub fn uuid(&self) -> String {
        let a = self.random_u64();
        let b = self.random_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52 & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    /// A short authentication code of upper-case letters and digits.
    pub fn code(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut v = self.random_u64();
        (0..7)
            .map(|_| {
                let c = ALPHABET[(v % ALPHABET.len() as u64) as usize] as char;
                v /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }

    /// Forgets every client, token, session, profile, trial, log entry, fault and bucket.
    pub fn reset(&self) {
        *self.state() = State::default();
        self.log().clear();
        self.faults().clear();
        let mut t = self.throttle();
        t.buckets.clear();
        t.config = self.config.throttling;
        drop(t);
        self.clock.reset();
    }
}

/// A profile as it appears in a `profiles` map.
pub fn profile_json(p: &Profile) -> Value {
    serde_json::json!({
        "notBefore": p.not_before,
        "notAfter": p.not_after,
        "issuer": p.issuer,
        "type": p.kind,
        "attributes": p.attributes,
    })
}

/// Wraps plain attribute values in the documented `{value, state}` form.
pub fn plain_attributes(values: &Map<String, Value>) -> Map<String, Value> {
    values
        .iter()
        .map(|(k, v)| {
            let wrapped = if v.get("value").is_some() && v.get("state").is_some() {
                v.clone()
            } else {
                serde_json::json!({ "value": v, "state": "plain" })
            };
            (k.clone(), wrapped)
        })
        .collect()
}
