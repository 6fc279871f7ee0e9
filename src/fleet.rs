//! A fleet of [`crate::PassService`] instances sharing their state in Redis (feature `redis`):
//! the client credentials and the access token (one register and one refresh for the fleet),
//! each device's profiles and Permits (expiring with their `notAfter`), and each device's pace
//! (one atomic GCRA script per request, so that all instances together keep a device within the
//! service's limit).
//!
//! Redis is a cache here, never a dependency of an answer: when it cannot be reached (or takes
//! longer than [`FleetSettings`]' timeout), the instance logs one warning and serves from its
//! own state and a conservative local pace (the limit divided by the number of instances) until
//! Redis answers again, checking at most once a second.

use crate::config::RateLimit;
use crate::device::DeviceState;
use crate::digest::{hex, sha256};
use crate::error::PassError;
use crate::model::Profile;
use crate::pace::{BoxFuture, IpPace, SharedPace};
use crate::seal::{hmac_sha256, name_key, random_token, Sealer, Unreadable};
use crate::sso::IdentityKeys;
use crate::time::{now_ms, Instant};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where and how a fleet keeps its shared state.
#[derive(Clone)]
pub(crate) struct FleetSettings {
    pub url: String,
    pub instances: u32,
    pub timeout: Duration,
    /// How values that hold a secret (the credentials, the token, devices' profiles) are
    /// written: sealed, or in plain text when set so explicitly.
    pub sealer: Sealer,
}

/// The reserving GCRA: books the next slot of a device's pace and answers how many
/// milliseconds to wait for it, or -1 (nothing booked) when that is beyond the caller's
/// deadline. KEYS[1]: the device's theoretical arrival time; ARGV: emission interval (ms),
/// burst, longest wait (ms), and 1 to silence the device for a second (after a 429). The
/// clock is the Redis server's, the same for every instance.
const PACE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if ARGV[4] == '1' then
  local quiet = now + 1000 + burst * interval
  if quiet > tat then tat = quiet end
  redis.call('SET', KEYS[1], tat, 'PX', tat - now + 1000)
  return 0
end
local next = tat + interval
local wait = next - now - burst * interval
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], next, 'PX', next - now + 1000)
return wait
"#;

/// Deletes KEYS[1] if it still holds ARGV[1]: the token after a 401, and the refresh lock by its
/// owner only (a lock that expired and was taken by another instance stays).
const FORGET_IF: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// The fleet's connection and its health.
pub(crate) struct Fleet {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    rate: RateLimit,
    pace: redis::Script,
    forget_if: redis::Script,
    /// Until when (ms since the epoch) Redis is not tried again after a failure.
    down_until: AtomicI64,
    /// Whether the outage in progress was logged.
    warned: AtomicBool,
    /// When Redis last answered again after an outage (ms since the epoch).
    recovered_at: AtomicI64,
    /// Redis commands sent (for benchmarks).
    round_trips: AtomicU64,
    sealer: Sealer,
    /// The subkeys naming keys derived from a device's id or address, the current one first.
    names: Vec<[u8; 32]>,
    /// Whether a value that did not open was logged.
    unreadable_warned: AtomicBool,
    /// The token last read or written: its digest and the value as stored, so that a 401 can
    /// forget exactly that value (sealed values differ for each write).
    token_seen: Mutex<Option<([u8; 32], String)>>,
}

impl Fleet {
    /// The fleet of the service provider `sp` at the base URL `base`.
    pub fn new(
        settings: &FleetSettings,
        sp: &str,
        base: &str,
        rate: RateLimit,
    ) -> Result<Self, PassError> {
        // The connection's task is spawned on the runtime that builds the fleet.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(PassError::config(
                "redis",
                "a fleet is built inside a Tokio runtime",
            ));
        }
        let client = redis::Client::open(settings.url.as_str()).map_err(|e| {
            PassError::config("redis", format!("not a Redis URL: {}", e.category()))
        })?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| PassError::config("redis", e.category().to_string()))?;
        let prefix = format!("tvpass:{sp}:{}", hex(&sha256(base)[..4]));
        let mut names = settings.sealer.name_keys();
        if names.is_empty() {
            // Plain text: no secret to key names with, and every instance must agree. Keyed by
            // the prefix, they are no harder to recompute than digests.
            names.push(name_key(prefix.as_bytes()));
        }
        Ok(Self {
            conn,
            names,
            prefix,
            timeout: settings.timeout,
            rate,
            pace: redis::Script::new(PACE),
            forget_if: redis::Script::new(FORGET_IF),
            down_until: AtomicI64::new(0),
            warned: AtomicBool::new(false),
            recovered_at: AtomicI64::new(0),
            round_trips: AtomicU64::new(0),
            sealer: settings.sealer.clone(),
            unreadable_warned: AtomicBool::new(false),
            token_seen: Mutex::new(None),
        })
    }

    /// The local pace a device keeps while Redis cannot be reached: its share of the limit.
    pub fn fallback_rate(rate: &RateLimit, instances: u32) -> RateLimit {
        let n = instances.max(1);
        RateLimit {
            enabled: rate.enabled,
            requests_per_second: rate.requests_per_second / f64::from(n),
            burst: (rate.burst / n).max(1),
        }
    }

    /// Redis commands sent so far.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }

    /// The keys of a device's id or address (`id`), one per naming subkey, the current first:
    /// HMAC-SHA256 under the fleet's key, so that no one reading Redis can tell which address
    /// or device a key belongs to by trying them all.
    fn private_keys(&self, kind: &str, id: &str) -> Vec<String> {
        let message = format!("{kind}\0{id}");
        self.names
            .iter()
            .map(|n| self.key(kind, &hex(&hmac_sha256(n, message.as_bytes())[..16])))
            .collect()
    }

    /// Runs one command unless Redis is resting after a failure; `None` when it cannot answer.
    async fn run<T: redis::FromRedisValue>(
        &self,
        cmd: impl FnOnce(ConnectionManager) -> RedisCall<T>,
    ) -> Option<T> {
        if self.down_until.load(Ordering::Relaxed) > now_ms() {
            return None;
        }
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::redis_round_trip();
        match crate::time::timeout(self.timeout, cmd(self.conn.clone())).await {
            Ok(Ok(v)) => {
                if self.warned.swap(false, Ordering::Relaxed) {
                    self.recovered_at.store(now_ms(), Ordering::Relaxed);
                    tracing::info!("Redis answers again; the fleet's shared state is back in use");
                }
                Some(v)
            }
            other => {
                let why = match other {
                    Ok(Err(e)) => format!("{} {e}", e.category()),
                    _ => {
                        crate::telemetry::redis_timeout();
                        "no answer in time".to_string()
                    }
                };
                self.down_until.store(now_ms() + 1000, Ordering::Relaxed);
                if !self.warned.swap(true, Ordering::Relaxed) {
                    crate::telemetry::redis_fallback();
                    tracing::warn!(
                        error = %why,
                        "Redis cannot be reached; serving from this instance's state and pace until it answers"
                    );
                }
                None
            }
        }
    }

    async fn get(&self, key: String) -> Option<Option<String>> {
        self.run(|mut c| {
            Box::pin(async move { redis::cmd("GET").arg(key).query_async(&mut c).await })
        })
        .await
    }

    /// A sealed value, opened; one that does not open (another key, changed, plain text) reads
    /// as missing, so that the instance fetches it again, and is logged once.
    async fn get_open(&self, key: String) -> Option<Option<String>> {
        let stored = self.get(key.clone()).await?;
        Some(stored.and_then(|v| self.open(&key, &v)))
    }

    fn open(&self, key: &str, stored: &str) -> Option<String> {
        match self.sealer.open(key, stored) {
            Ok(v) => Some(v),
            Err(why) => {
                crate::telemetry::redis_unreadable();
                if !self.unreadable_warned.swap(true, Ordering::Relaxed) {
                    let why = match why {
                        Unreadable::UnknownKey => "sealed under a key this instance does not have",
                        Unreadable::Tampered => "not sealed, or changed since it was sealed",
                    };
                    tracing::warn!(
                        key_id = self.sealer.key_id().unwrap_or("none"),
                        "a value in Redis does not open ({why}); it is read as missing and fetched again"
                    );
                }
                None
            }
        }
    }

    async fn set_px(&self, key: String, value: String, ttl_ms: i64) -> Option<()> {
        self.run(|mut c| {
            Box::pin(async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ttl_ms.max(1))
                    .query_async(&mut c)
                    .await
            })
        })
        .await
    }

    async fn del(&self, key: String) -> Option<()> {
        self.run(|mut c| {
            Box::pin(async move { redis::cmd("DEL").arg(key).query_async(&mut c).await })
        })
        .await
    }

    /// Whether Redis answers a PING now (`false` while it rests after a failure).
    pub async fn ping(&self) -> bool {
        self.run::<String>(|mut c| {
            Box::pin(async move { redis::cmd("PING").query_async(&mut c).await })
        })
        .await
        .is_some()
    }

    /// A device's pace: the fleet's, or `local` while Redis is away.
    pub fn pacer(self: &Arc<Self>, ip: IpAddr, local: IpPace) -> FleetPacer {
        FleetPacer {
            fleet: self.clone(),
            // Under the current key only: instances that rotate the fleet's key at different
            // moments keep separate paces until they agree.
            key: self.private_keys("pace", &ip.to_string()).swap_remove(0),
            local,
        }
    }

    // ---- registration ----

    pub async fn load_credentials(&self) -> Option<Option<String>> {
        self.get_open(self.key("dcr", "credentials")).await
    }

    /// Keeps the credentials for the fleet (no expiry: they are kept forever).
    pub async fn save_credentials(&self, json: String) -> Option<()> {
        let key = self.key("dcr", "credentials");
        let json = self.sealer.seal(&key, &json);
        self.run(|mut c| {
            Box::pin(async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(json)
                    .query_async(&mut c)
                    .await
            })
        })
        .await
    }

    pub async fn load_token(&self) -> Option<Option<String>> {
        let key = self.key("dcr", "token");
        let stored = self.get(key.clone()).await?;
        Some(stored.and_then(|v| {
            let json = self.open(&key, &v)?;
            self.saw_token(&json, v);
            Some(json)
        }))
    }

    pub async fn save_token(&self, json: String, ttl_ms: i64) -> Option<()> {
        let key = self.key("dcr", "token");
        let stored = self.sealer.seal(&key, &json);
        self.saw_token(&json, stored.clone());
        self.set_px(key, stored, ttl_ms).await
    }

    fn saw_token(&self, json: &str, stored: String) {
        *self.token_seen.lock().unwrap_or_else(|e| e.into_inner()) = Some((sha256(json), stored));
    }

    /// Forgets the fleet's token if it is still `json` (after a 401), and the credentials too
    /// when `client` (after `application-registration`).
    pub async fn forget_token(&self, json: String, client: bool) {
        let key = self.key("dcr", "token");
        let seen = self
            .token_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        // The value as stored, which is what the script compares.
        let json = match seen {
            Some((digest, stored)) if digest == sha256(&json) => stored,
            _ => self.sealer.seal(&key, &json),
        };
        let script = self.forget_if.clone();
        self.run::<i64>(|mut c| {
            Box::pin(async move { script.key(key).arg(json).invoke_async(&mut c).await })
        })
        .await;
        if client {
            self.del(self.key("dcr", "credentials")).await;
        }
    }

    /// Tries to become the one instance that refreshes the token (for at most `hold`): the
    /// lock, held under a random owner token, or `None` while another instance holds it.
    pub async fn lock_refresh(&self, hold: Duration) -> Option<Option<RefreshLock>> {
        let key = self.key("dcr", "refresh");
        let ms = hold.as_millis() as i64;
        let owner = random_token();
        let value = owner.clone();
        self.run::<Option<String>>(|mut c| {
            Box::pin(async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms)
                    .query_async(&mut c)
                    .await
            })
        })
        .await
        .map(|r| r.map(|_| RefreshLock { owner }))
    }

    /// Frees the refresh lock if this instance still owns it: one that expired and another
    /// instance took is left to that instance.
    pub async fn unlock_refresh(&self, lock: RefreshLock) {
        let (key, script) = (self.key("dcr", "refresh"), self.forget_if.clone());
        self.run::<i64>(|mut c| {
            Box::pin(async move { script.key(key).arg(lock.owner).invoke_async(&mut c).await })
        })
        .await;
    }

    // ---- devices ----

    /// Replaces a device's local state with the fleet's (when Redis answers).
    /// Under the current key first, then (while the fleet's key rotates) the previous ones.
    pub async fn load_device(&self, id: &str, state: &DeviceState) {
        let mut found = None;
        for key in self.private_keys("device", id) {
            let Some(value) = self.get_open(key).await else {
                return;
            };
            if value.is_some() {
                found = value;
                break;
            }
        }
        apply_saved(found.as_deref(), state);
    }

    /// Keeps a device's state for the fleet until the last of it expires.
    pub async fn save_device(&self, id: &str, state: &DeviceState) {
        let now = now_ms();
        let saved = SavedDevice {
            profiles: state
                .profiles()
                .iter()
                .filter(|p| p.not_after_ms > now)
                .cloned()
                .collect(),
            permits: state
                .preauthorized()
                .iter()
                .filter(|(_, until)| **until > now)
                .map(|((m, r), until)| (m.clone(), r.clone(), *until))
                .collect(),
            checked: state
                .profiles_checked()
                .as_ref()
                .map(|k| k.parts().map(|p| p.map(str::to_string))),
        };
        let until = saved
            .profiles
            .iter()
            .map(|p| p.not_after_ms)
            .chain(saved.permits.iter().map(|p| p.2))
            .max();
        let mut keys = self.private_keys("device", id);
        let key = keys.remove(0);
        // What a previous key named is gone, lest it come back after this one is deleted.
        for old in keys {
            self.del(old).await;
        }
        match (until, serde_json::to_string(&saved)) {
            (Some(until), Ok(json)) => {
                let json = self.sealer.seal(&key, &json);
                self.set_px(key, json, until - now).await;
            }
            _ => {
                self.del(key).await;
            }
        }
    }
}

/// The fleet's refresh lock, held by this instance under a random owner token (not shown).
pub(crate) struct RefreshLock {
    owner: String,
}

type RedisCall<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = redis::RedisResult<T>> + Send>>;

/// What the fleet keeps of a device.
#[derive(Default, Serialize, Deserialize)]
struct SavedDevice {
    #[serde(rename = "p", default)]
    profiles: Vec<Profile>,
    #[serde(rename = "a", default)]
    permits: Vec<(String, String, i64)>,
    /// The identities the profiles were read under (digests), so that another instance need
    /// not ask the service again for the same identities.
    #[serde(rename = "c", default)]
    checked: Option<[Option<String>; 3]>,
}

/// Replaces a device's state with what the fleet keeps of it (`None`: nothing); a value that
/// cannot be read counts as nothing. Only what is still valid is taken, within the bounds of
/// what a device keeps.
pub(crate) fn apply_saved(found: Option<&str>, state: &DeviceState) {
    let saved = found
        .and_then(|json| serde_json::from_str::<SavedDevice>(json).ok())
        .unwrap_or_default();
    let now = now_ms();
    let mut profiles: Vec<Profile> = saved
        .profiles
        .into_iter()
        .filter(|p| p.not_after_ms > now)
        .collect();
    crate::device::bound_profiles(&mut profiles);
    *state.profiles() = profiles;
    let mut permits = state.preauthorized();
    permits.clear();
    for (mvpd, resource, until) in saved.permits {
        if until > now {
            permits.insert((mvpd, resource), until);
        }
    }
    crate::device::bound_permits(&mut permits);
    drop(permits);
    *state.profiles_checked() = saved.checked.map(IdentityKeys::from_parts);
    state.touch();
}

/// A device's pace across the fleet.
#[derive(Clone)]
pub(crate) struct FleetPacer {
    fleet: Arc<Fleet>,
    key: String,
    local: IpPace,
}

impl FleetPacer {
    /// The device's emission interval in ms.
    fn interval_ms(&self) -> i64 {
        (1000.0 / self.fleet.rate.requests_per_second.max(0.001)).ceil() as i64
    }

    /// Runs the pace script: books a slot waiting at most `longest` ms (the wait, or -1), or
    /// with `silence` quiets the device. `None` when Redis cannot answer.
    async fn book(&self, burst: u32, longest: i64, silence: bool) -> Option<i64> {
        let (key, script, interval) = (
            self.key.clone(),
            self.fleet.pace.clone(),
            self.interval_ms(),
        );
        self.fleet
            .run::<i64>(|mut c| {
                Box::pin(async move {
                    script
                        .key(key)
                        .arg(interval)
                        .arg(burst)
                        .arg(longest)
                        .arg(u8::from(silence))
                        .invoke_async(&mut c)
                        .await
                })
            })
            .await
    }

    /// Books the device's next slot in Redis and waits for it; while Redis is away, the local
    /// share of the pace decides.
    async fn acquire_slot(&self, deadline: Instant) -> Result<(), PassError> {
        let rate = &self.fleet.rate;
        if !rate.enabled {
            return self.local.acquire(deadline).await;
        }
        let longest = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as i64;
        // A Redis that comes back may have lost the buckets: until a bucket would have
        // refilled, no device gets a burst, only the sustained rate.
        let refill_ms = (f64::from(rate.burst) / rate.requests_per_second * 1000.0) as i64;
        let burst = if now_ms() < self.fleet.recovered_at.load(Ordering::Relaxed) + refill_ms {
            1
        } else {
            rate.burst.max(1)
        };
        match self.book(burst, longest, false).await {
            None => self.local.acquire(deadline).await,
            Some(w) if w < 0 => Err(PassError::Throttled),
            Some(0) => Ok(()),
            Some(w) => {
                // A margin of a tenth of the interval (at most 100 ms): the slot is booked on
                // Redis's clock, and the requests of a burst may reach the service later than
                // this one does.
                let margin = (self.interval_ms() / 10).min(100);
                crate::time::sleep(Duration::from_millis((w + margin) as u64)).await;
                Ok(())
            }
        }
    }

    /// After a 429: the whole fleet leaves the device's IP alone for at least a second.
    async fn quiet(&self) {
        self.local.silence();
        self.book(self.fleet.rate.burst.max(1), 0, true).await;
    }
}

impl SharedPace for FleetPacer {
    fn acquire(&self, deadline: Instant) -> BoxFuture<'_, Result<(), PassError>> {
        Box::pin(self.acquire_slot(deadline))
    }

    fn silence(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.quiet())
    }
}
