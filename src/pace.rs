//! Pacing: the service allows each device (by its IP) 1 request per second after a burst of 10,
//! and answers 429 past that. One token-bucket arithmetic ([`refill`], [`take`]) and one wait
//! loop ([`paced`]) serve a device app's own bucket ([`Pacer`]) and a service's buckets of many
//! device IPs ([`IpPaces`]); [`Pacing`] is the seam the pipeline calls to wait for a slot and to
//! report a 429, whoever keeps the bucket. A bucket kept elsewhere (a fleet's Redis) comes in
//! through [`SharedPace`], which the fleet implements.

use crate::config::RateLimit;
use crate::error::PassError;
use crate::time::Instant;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A token bucket's level after `elapsed_s` seconds of refill, capped at the burst.
pub(crate) fn refill(tokens: f64, elapsed_s: f64, config: &RateLimit) -> f64 {
    (tokens + elapsed_s * config.requests_per_second).min(config.burst.max(1) as f64)
}

/// Takes a token from a bucket at `tokens`: the level after, and how long until a token when
/// there is none.
pub(crate) fn take(tokens: f64, config: &RateLimit) -> (f64, Option<Duration>) {
    if tokens >= 1.0 {
        (tokens - 1.0, None)
    } else {
        let wait = (1.0 - tokens) / config.requests_per_second;
        (tokens, Some(Duration::from_secs_f64(wait)))
    }
}

/// Waits until `next` lets a request go (`None`; otherwise it says how long to wait);
/// `Throttled` when the wait would pass the deadline.
pub(crate) async fn paced(
    deadline: Instant,
    mut next: impl FnMut() -> Option<Duration>,
) -> Result<(), PassError> {
    let mut waited = None;
    loop {
        match next() {
            None => break,
            Some(w) if Instant::now() + w > deadline => return Err(PassError::Throttled),
            Some(w) => {
                waited.get_or_insert_with(Instant::now);
                crate::time::sleep(w).await
            }
        }
    }
    if let Some(since) = waited {
        crate::telemetry::pacing_wait(since.elapsed());
    }
    Ok(())
}

/// The shortest silence after a 429: the service asks for at least a second.
pub(crate) const MIN_SILENCE: Duration = Duration::from_secs(1);

/// The longest silence after a 429, and the longest `Retry-After` the pipeline honours.
pub(crate) const MAX_SILENCE: Duration = Duration::from_secs(30);

/// How long a device is silent after a 429 whose `Retry-After` (or none: zero) asks for
/// `silence`: that, never less than [`MIN_SILENCE`] nor more than [`MAX_SILENCE`].
pub(crate) fn at_least_a_second(silence: Duration) -> Duration {
    silence.clamp(MIN_SILENCE, MAX_SILENCE)
}

/// The client-side token bucket and the silence after a 429.
#[derive(Debug)]
pub(crate) struct Pacer {
    config: RateLimit,
    state: Mutex<PacerState>,
}

#[derive(Debug)]
struct PacerState {
    tokens: f64,
    last: Instant,
    silent_until: Option<Instant>,
}

impl Pacer {
    pub fn new(config: RateLimit) -> Self {
        let tokens = config.burst as f64;
        Self {
            config,
            state: Mutex::new(PacerState {
                tokens,
                last: Instant::now(),
                silent_until: None,
            }),
        }
    }

    /// Waits until a request may be sent; `Throttled` if that would pass the deadline.
    pub async fn acquire(&self, deadline: Instant) -> Result<(), PassError> {
        paced(deadline, || self.next()).await
    }

    /// Takes a token, or says how long until the next request may go.
    fn next(&self) -> Option<Duration> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !self.config.enabled && s.silent_until.is_none() {
            // Pacing off and no 429 heard: no clock to read.
            return None;
        }
        let now = Instant::now();
        let silence = s.silent_until.filter(|t| *t > now).map(|t| t - now);
        if !self.config.enabled {
            return silence;
        }
        let elapsed = now.saturating_duration_since(s.last).as_secs_f64();
        s.last = now;
        s.tokens = refill(s.tokens, elapsed, &self.config);
        if silence.is_some() {
            return silence;
        }
        let (tokens, wait) = take(s.tokens, &self.config);
        s.tokens = tokens;
        wait
    }

    /// After a 429: no request for `silence` (at least a second).
    pub fn silence(&self, silence: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + at_least_a_second(silence);
        s.silent_until = Some(s.silent_until.map_or(until, |t| t.max(until)));
        s.tokens = 0.0;
    }
}

/// A pace kept outside this process (a fleet's Redis), which falls back on a local one when it
/// cannot answer.
#[cfg(feature = "redis")]
pub(crate) trait SharedPace: Send + Sync {
    /// Waits until a request may be sent; `Throttled` if that would pass the deadline.
    fn acquire(&self, deadline: Instant) -> BoxFuture<'_, Result<(), PassError>>;
    /// After a 429: no request for at least a second.
    fn silence(&self) -> BoxFuture<'_, ()>;
    /// After a 429 whose `Retry-After` asks for `silence`: no request for that long (at least
    /// a second). The default keeps the shared silence at [`SharedPace::silence`]'s; the call
    /// that heard the 429 waits the longer time itself.
    fn silence_for(&self, silence: Duration) -> BoxFuture<'_, ()> {
        let _ = silence;
        self.silence()
    }
}

/// A boxed future, as a [`SharedPace`] returns them.
#[cfg(feature = "redis")]
pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Whose bucket a request keeps.
#[derive(Clone)]
pub(crate) enum Pacing {
    /// This process's own bucket: a device app's, or a service's for the requests that name no
    /// device (registration).
    Local(Arc<Pacer>),
    /// The bucket of one device IP among a service's.
    #[cfg(feature = "service")]
    Ip(IpPace),
    /// A bucket shared by every instance of a fleet.
    #[cfg(feature = "redis")]
    Shared(Arc<dyn SharedPace>),
}

impl Pacing {
    /// Waits until a request may be sent; `Throttled` if that would pass the deadline.
    pub async fn acquire(&self, deadline: Instant) -> Result<(), PassError> {
        match self {
            Pacing::Local(p) => p.acquire(deadline).await,
            #[cfg(feature = "service")]
            Pacing::Ip(p) => p.acquire(deadline).await,
            #[cfg(feature = "redis")]
            Pacing::Shared(p) => p.acquire(deadline).await,
        }
    }

    /// After a 429: no request for `silence` (at least a second; zero when the answer said
    /// nothing of when to come back).
    pub async fn silence(&self, silence: Duration) {
        match self {
            Pacing::Local(p) => p.silence(silence),
            #[cfg(feature = "service")]
            Pacing::Ip(p) => p.silence_for(silence),
            #[cfg(feature = "redis")]
            Pacing::Shared(p) => p.silence_for(silence).await,
        }
    }
}

#[cfg(feature = "service")]
pub(crate) use ip::{IpPace, IpPaces};

#[cfg(feature = "service")]
mod ip {
    use super::{paced, refill, take};
    use crate::config::RateLimit;
    use crate::error::PassError;
    use crate::time::Instant;
    use lru::LruCache;
    use std::net::IpAddr;
    use std::sync::{Arc, Mutex, MutexGuard};
    use std::time::Duration;

    /// Shards of the buckets: calls from different IPs rarely wait for one another's lock.
    const SHARDS: usize = 16;

    /// The buckets of the device IPs a service serves: one for each IP seen within the time an
    /// idle bucket takes to refill (a full bucket needs no entry), 16 bytes each.
    pub(crate) struct IpPaces {
        shards: Vec<Mutex<LruCache<IpAddr, Bucket>>>,
        rate_limit: RateLimit,
        /// Most buckets a shard keeps while every one of them is busy.
        max_per_shard: usize,
        /// The origin of the buckets' times.
        epoch: Instant,
    }

    /// A token bucket in 16 bytes. Its clock counts ms in a `u64` (half a billion years); the
    /// silence, never more than a few seconds, is kept relative to it in a `u32`.
    #[derive(Clone, Copy)]
    struct Bucket {
        tokens: f32,
        /// Ms after `last_ms` until which the IP is silent (after a 429).
        silent_for_ms: u32,
        /// Ms since the epoch of the last refill.
        last_ms: u64,
    }

    impl Bucket {
        fn full(capacity: f32, now: u64) -> Self {
            Self {
                tokens: capacity,
                silent_for_ms: 0,
                last_ms: now,
            }
        }

        /// Ms since the epoch until which the IP is silent.
        fn silent_until(&self) -> u64 {
            self.last_ms.saturating_add(u64::from(self.silent_for_ms))
        }
    }

    impl IpPaces {
        /// Buckets for about `max_devices` devices at a time, each at `rate_limit`.
        pub fn new(max_devices: usize, rate_limit: RateLimit) -> Self {
            Self {
                // Unbounded maps (a bounded one would allocate its whole capacity at once):
                // `next` bounds them.
                shards: (0..SHARDS)
                    .map(|_| Mutex::new(LruCache::unbounded()))
                    .collect(),
                rate_limit,
                max_per_shard: max_devices.div_ceil(SHARDS) + 64,
                epoch: Instant::now(),
            }
        }

        /// The pace of one device IP.
        pub fn of(self: &Arc<Self>, ip: IpAddr) -> IpPace {
            IpPace {
                paces: self.clone(),
                ip,
            }
        }

        fn shard(&self, ip: IpAddr) -> MutexGuard<'_, LruCache<IpAddr, Bucket>> {
            let key = match ip {
                IpAddr::V4(v) => u128::from(u32::from(v)),
                IpAddr::V6(v) => u128::from(v),
            };
            self.shards[(key as usize) % SHARDS]
                .lock()
                .unwrap_or_else(|e| e.into_inner())
        }

        fn since_epoch_ms(&self) -> u64 {
            u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
        }

        /// Takes a token from the IP's bucket, or says how long to wait for one.
        fn next(&self, ip: IpAddr) -> Option<Duration> {
            self.next_at(ip, self.since_epoch_ms())
        }

        /// [`next`](Self::next) at `now` ms since the epoch.
        fn next_at(&self, ip: IpAddr, now: u64) -> Option<Duration> {
            let rl = &self.rate_limit;
            let mut shard = self.shard(ip);
            if !rl.enabled && shard.peek(&ip).is_none() {
                return None;
            }
            let capacity = rl.burst.max(1) as f32;
            let refilled = |b: &Bucket| {
                refill(
                    f64::from(b.tokens),
                    now.saturating_sub(b.last_ms) as f64 / 1000.0,
                    rl,
                ) as f32
            };
            // Buckets that have refilled since their last use hold nothing worth keeping.
            for _ in 0..2 {
                match shard.peek_lru() {
                    Some((_, b)) if b.silent_until() <= now && refilled(b) >= capacity => {
                        shard.pop_lru();
                    }
                    _ => break,
                }
            }
            if shard.len() >= self.max_per_shard && !shard.contains(&ip) {
                // More IPs busy at once than devices kept: the least recently used bucket goes.
                shard.pop_lru();
            }
            let b = shard.get_or_insert_mut(ip, || Bucket::full(capacity, now));
            let silent_until = b.silent_until();
            if silent_until > now {
                return Some(Duration::from_millis(silent_until - now));
            }
            if !rl.enabled {
                return None;
            }
            let (tokens, wait) = take(f64::from(refilled(b)), rl);
            b.tokens = tokens as f32;
            b.last_ms = now;
            b.silent_for_ms = 0;
            wait
        }

        /// After a 429: the IP is left alone for `silence` (at least a second).
        fn silence(&self, ip: IpAddr, silence: Duration) {
            self.silence_at(ip, self.since_epoch_ms(), silence);
        }

        /// [`silence`](Self::silence) at `now` ms since the epoch.
        fn silence_at(&self, ip: IpAddr, now: u64, silence: Duration) {
            let capacity = self.rate_limit.burst.max(1) as f32;
            let mut shard = self.shard(ip);
            let b = shard.get_or_insert_mut(ip, || Bucket::full(capacity, now));
            let ms =
                u64::try_from(super::at_least_a_second(silence).as_millis()).unwrap_or(u64::MAX);
            let until = b.silent_until().max(now.saturating_add(ms));
            b.silent_for_ms = u32::try_from(until.saturating_sub(now)).unwrap_or(u32::MAX);
            b.tokens = 0.0;
            b.last_ms = now;
        }
    }

    /// The pace of one device IP among a service's.
    #[derive(Clone)]
    pub(crate) struct IpPace {
        paces: Arc<IpPaces>,
        ip: IpAddr,
    }

    impl IpPace {
        /// Waits until a request may be sent; `Throttled` if that would pass the deadline.
        pub async fn acquire(&self, deadline: Instant) -> Result<(), PassError> {
            paced(deadline, || self.paces.next(self.ip)).await
        }

        /// After a 429: no request for at least a second.
        #[cfg_attr(not(feature = "redis"), allow(dead_code))]
        pub fn silence(&self) {
            self.silence_for(super::MIN_SILENCE);
        }

        /// After a 429: no request for `silence` (at least a second).
        pub fn silence_for(&self, silence: Duration) {
            self.paces.silence(self.ip, silence);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const DAY_MS: u64 = 24 * 3600 * 1000;

        fn paces() -> IpPaces {
            IpPaces::new(
                100,
                RateLimit {
                    requests_per_second: 1.0,
                    burst: 10,
                    enabled: true,
                },
            )
        }

        fn ip(n: u8) -> IpAddr {
            IpAddr::from([10, 0, 0, n])
        }

        /// From `t0`: a burst of 10, then a wait of a second; a token a second later, none
        /// 999 ms after it; a full burst again after 10 idle seconds; a 429's silence of a
        /// second, then a token.
        fn day_one(p: &IpPaces, a: IpAddr, t0: u64) {
            for i in 0..10 {
                assert_eq!(p.next_at(a, t0), None, "burst request {i} at {t0}");
            }
            assert_eq!(p.next_at(a, t0), Some(Duration::from_secs(1)), "at {t0}");
            assert_eq!(p.next_at(a, t0 + 1000), None, "refilled a token at {t0}");
            assert!(
                p.next_at(a, t0 + 1999).is_some(),
                "a token a second at {t0}"
            );
            assert_eq!(p.next_at(a, t0 + 2000), None);
            let later = t0 + 12_000;
            for i in 0..10 {
                assert_eq!(p.next_at(a, later), None, "refilled burst {i} at {later}");
            }
            assert!(p.next_at(a, later).is_some());
            p.silence_at(a, later, Duration::ZERO);
            assert_eq!(
                p.next_at(a, later + 400),
                Some(Duration::from_millis(600)),
                "silent a second after a 429 at {later}"
            );
            // The bucket refills from the 429 on: one token when the silence ends.
            assert_eq!(p.next_at(a, later + 1000), None);
            assert_eq!(p.next_at(a, later + 1000), Some(Duration::from_secs(1)));
        }

        #[test]
        fn buckets_refill_and_limit_past_50_days_and_past_u32_ms() {
            let p = paces();
            let wrap = u64::from(u32::MAX);
            for (n, t0) in [
                (1, 0),
                (2, 50 * DAY_MS),
                (3, wrap - 5_000),
                (4, wrap + 1),
                (5, 10 * 365 * DAY_MS),
                (6, 1_000 * 365 * DAY_MS),
            ] {
                day_one(&p, ip(n), t0);
            }
            // One bucket drained before u32::MAX ms and refilled after it.
            let a = ip(7);
            for _ in 0..10 {
                assert_eq!(p.next_at(a, wrap - 500), None);
            }
            assert!(p.next_at(a, wrap - 500).is_some());
            assert_eq!(p.next_at(a, wrap + 500), None, "a token across u32::MAX ms");
            assert!(p.next_at(a, wrap + 500).is_some());
            // A silence heard before u32::MAX ms that ends after it.
            let b = ip(8);
            p.silence_at(b, wrap - 300, Duration::from_secs(2));
            assert_eq!(p.next_at(b, wrap + 1), Some(Duration::from_millis(1699)));
            assert_eq!(p.next_at(b, wrap + 1699), Some(Duration::from_millis(1)));
            // Drained by the 429, refilled for the two seconds since.
            assert_eq!(p.next_at(b, wrap + 1700), None);
            assert_eq!(p.next_at(b, wrap + 1700), None);
            assert!(p.next_at(b, wrap + 1700).is_some());
        }

        #[test]
        fn a_silence_is_one_to_thirty_seconds_and_never_shortened() {
            let p = paces();
            let a = ip(1);
            let t0 = 60 * DAY_MS;
            p.silence_at(a, t0, Duration::from_secs(3600));
            assert_eq!(p.next_at(a, t0), Some(Duration::from_secs(30)));
            p.silence_at(a, t0 + 1000, Duration::ZERO);
            assert_eq!(
                p.next_at(a, t0 + 1000),
                Some(Duration::from_secs(29)),
                "a later, shorter silence keeps the longer one"
            );
            assert_eq!(p.next_at(a, t0 + 29_999), Some(Duration::from_millis(1)));
            assert_eq!(p.next_at(a, t0 + 30_000), None);
        }

        #[test]
        fn a_bucket_is_16_bytes() {
            assert_eq!(std::mem::size_of::<Bucket>(), 16);
        }
    }
}
