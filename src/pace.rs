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

    /// After a 429: no request for at least a second.
    pub fn silence(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + Duration::from_millis(1000);
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

    /// After a 429: no request for at least a second.
    pub async fn silence(&self) {
        match self {
            Pacing::Local(p) => p.silence(),
            #[cfg(feature = "service")]
            Pacing::Ip(p) => p.silence(),
            #[cfg(feature = "redis")]
            Pacing::Shared(p) => p.silence().await,
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

    /// A token bucket in 16 bytes.
    #[derive(Clone, Copy)]
    struct Bucket {
        tokens: f32,
        /// Ms since the epoch of the last refill.
        last_ms: u32,
        /// Ms since the epoch until which the IP is silent (after a 429).
        silent_until_ms: u32,
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

        fn since_epoch_ms(&self) -> u32 {
            u32::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u32::MAX)
        }

        /// Takes a token from the IP's bucket, or says how long to wait for one.
        fn next(&self, ip: IpAddr) -> Option<Duration> {
            let rl = &self.rate_limit;
            let mut shard = self.shard(ip);
            if !rl.enabled && shard.peek(&ip).is_none() {
                return None;
            }
            let now = self.since_epoch_ms();
            let capacity = rl.burst.max(1) as f32;
            let refilled = |b: &Bucket| {
                refill(
                    f64::from(b.tokens),
                    f64::from(now.saturating_sub(b.last_ms)) / 1000.0,
                    rl,
                ) as f32
            };
            // Buckets that have refilled since their last use hold nothing worth keeping.
            for _ in 0..2 {
                match shard.peek_lru() {
                    Some((_, b)) if b.silent_until_ms <= now && refilled(b) >= capacity => {
                        shard.pop_lru();
                    }
                    _ => break,
                }
            }
            if shard.len() >= self.max_per_shard && !shard.contains(&ip) {
                // More IPs busy at once than devices kept: the least recently used bucket goes.
                shard.pop_lru();
            }
            let b = shard.get_or_insert_mut(ip, || Bucket {
                tokens: capacity,
                last_ms: now,
                silent_until_ms: 0,
            });
            if b.silent_until_ms > now {
                return Some(Duration::from_millis(u64::from(b.silent_until_ms - now)));
            }
            if !rl.enabled {
                return None;
            }
            let (tokens, wait) = take(f64::from(refilled(b)), rl);
            b.tokens = tokens as f32;
            b.last_ms = now;
            wait
        }

        /// After a 429: the IP is left alone for at least a second.
        fn silence(&self, ip: IpAddr) {
            let now = self.since_epoch_ms();
            let capacity = self.rate_limit.burst.max(1) as f32;
            let mut shard = self.shard(ip);
            let b = shard.get_or_insert_mut(ip, || Bucket {
                tokens: capacity,
                last_ms: now,
                silent_until_ms: 0,
            });
            b.silent_until_ms = b.silent_until_ms.max(now.saturating_add(1000));
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
        pub fn silence(&self) {
            self.paces.silence(self.ip);
        }
    }
}
