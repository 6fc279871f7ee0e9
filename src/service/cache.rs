//! A service's device cache: the state of the devices it serves, bounded by count and bytes,
//! packed while no call of a device runs, evicted by expiry and least-recent use.

use crate::device::{DeviceHome, DeviceState, Packed};
use crate::time::now_ms;
use lru::LruCache;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Shards of the cache: calls of different devices rarely wait for one another's lock.
const SHARDS: usize = 16;

/// The cache key of a device: a digest of the service provider and its id (the id itself is
/// not kept as a key).
pub(super) fn device_key(sp: &str, id: &str) -> u128 {
    let d = Sha256::new()
        .chain_update(sp.as_bytes())
        .chain_update([0])
        .chain_update(id.as_bytes())
        .finalize();
    u128::from_le_bytes(d[..16].try_into().unwrap_or([0; 16]))
}

/// The bounded state of the devices a service serves.
pub(crate) struct DeviceCache {
    shards: Vec<Mutex<Shard>>,
    max_devices: usize,
    max_bytes: usize,
    /// Devices and bytes kept, across the shards.
    count: AtomicUsize,
    bytes: AtomicUsize,
}

struct Shard {
    devices: LruCache<u128, Entry>,
    bytes: usize,
}

/// A device's state: packed while no call of the device runs, live (shared by its handles)
/// while one does.
enum Rest {
    Packed(Box<[u8]>),
    Live(Arc<DeviceState>),
}

struct Entry {
    rest: Rest,
    /// The bytes counted for it.
    bytes: usize,
    /// When nothing it holds is valid any more (ms since the epoch).
    expires_ms: i64,
}

/// The bytes of a packed entry besides its data: the map's node and index.
const ENTRY_OVERHEAD: usize = 112;

/// How long the live state of a device that holds nothing is kept after its last call: the
/// time a login takes, so that a session's profile lands where the device's next call looks.
const EMPTY_DEVICE_TTL_MS: i64 = 30 * 60 * 1000;

impl Shard {
    fn new() -> Self {
        // An unbounded map (the lru crate would allocate a bounded one's whole capacity at
        // once): the cache's counts bound the devices.
        Self {
            devices: LruCache::unbounded(),
            bytes: 0,
        }
    }

    /// Evicts this shard's expired and then its least recently used while the cache is over
    /// its bounds (an approximation of one least-recently-used order across the shards).
    fn evict(&mut self, cache: &DeviceCache, now: i64) {
        while let Some((_, e)) = self.devices.peek_lru() {
            let over = cache.count.load(Ordering::Relaxed) > cache.max_devices
                || cache.bytes.load(Ordering::Relaxed) > cache.max_bytes;
            if !(over || e.expires_ms <= now) {
                break;
            }
            if let Some((_, e)) = self.devices.pop_lru() {
                self.remove(cache, e.bytes);
            }
        }
    }

    fn add(&mut self, cache: &DeviceCache, bytes: usize) {
        self.bytes += bytes;
        cache.count.fetch_add(1, Ordering::Relaxed);
        cache.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn remove(&mut self, cache: &DeviceCache, bytes: usize) {
        self.bytes = self.bytes.saturating_sub(bytes);
        cache.count.fetch_sub(1, Ordering::Relaxed);
        cache.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    fn resize(&mut self, cache: &DeviceCache, old: usize, new: usize) {
        self.bytes = self.bytes.saturating_sub(old) + new;
        cache.bytes.fetch_add(new, Ordering::Relaxed);
        cache.bytes.fetch_sub(old, Ordering::Relaxed);
    }
}

impl DeviceCache {
    pub fn new(max_devices: usize, max_bytes: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::new())).collect(),
            max_devices,
            max_bytes,
            count: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        }
    }

    fn shard(&self, key: u128) -> MutexGuard<'_, Shard> {
        self.shards[(key as usize) % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// How many devices' state is kept now.
    pub fn devices(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).devices.len())
            .sum()
    }

    /// The estimated bytes of device state kept now.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes)
            .sum()
    }

    /// The live state of a device for a new handle (and its version now).
    pub fn checkout(&self, key: u128) -> (Arc<DeviceState>, u64) {
        let mut shard = self.shard(key);
        let now = now_ms();
        if let Some(e) = shard.devices.get_mut(&key) {
            if e.expires_ms > now {
                let state = match &mut e.rest {
                    Rest::Live(state) => state.clone(),
                    Rest::Packed(bytes) => {
                        let state = Arc::new(DeviceState::from_packed(Some(std::mem::take(bytes))));
                        e.rest = Rest::Live(state.clone());
                        state
                    }
                };
                let version = state.version();
                return (state, version);
            }
        }
        let state = Arc::new(DeviceState::from_packed(None));
        let bytes = ENTRY_OVERHEAD + std::mem::size_of::<DeviceState>();
        shard.add(self, bytes);
        if let Some((_, old)) = shard.devices.push(
            key,
            Entry {
                rest: Rest::Live(state.clone()),
                bytes,
                expires_ms: now + EMPTY_DEVICE_TTL_MS,
            },
        ) {
            shard.remove(self, old.bytes);
        }
        shard.evict(self, now);
        (state, 0)
    }

    /// A handle of the device goes: the last one packs the state (again only if it changed).
    pub fn release(&self, key: u128, state: &Arc<DeviceState>, version: u64) {
        let mut shard = self.shard(key);
        let now = now_ms();
        let Some(e) = shard.devices.peek_mut(&key) else {
            return;
        };
        let Rest::Live(live) = &e.rest else {
            return;
        };
        // The entry's and this handle's: no other handle of the device is out.
        if !Arc::ptr_eq(live, state) || Arc::strong_count(live) > 2 {
            return;
        }
        let old = e.bytes;
        match state.pack(now, version) {
            Packed::Unchanged(packed) => e.rest = Rest::Packed(packed),
            Packed::Changed(packed, Some(until)) => {
                let new = ENTRY_OVERHEAD + packed.len();
                e.bytes = new;
                e.expires_ms = until;
                e.rest = Rest::Packed(packed);
                shard.resize(self, old, new);
            }
            Packed::Changed(_, None) => {
                // Nothing valid: the device is as if never seen.
                shard.devices.pop(&key);
                shard.remove(self, old);
            }
        }
        shard.evict(self, now);
    }
}

/// Where a device's handle returns its state when it goes: the service's side of the
/// [`DeviceHome`] seam.
pub(crate) struct CacheSlot {
    cache: Arc<DeviceCache>,
    key: u128,
    /// The state's version when the handle was made.
    version: u64,
}

impl CacheSlot {
    /// The slot of the device `key`, whose state was at `version` when its handle was made.
    pub fn new(cache: Arc<DeviceCache>, key: u128, version: u64) -> Self {
        Self {
            cache,
            key,
            version,
        }
    }
}

impl DeviceHome for CacheSlot {
    fn release(&self, state: &Arc<DeviceState>) {
        self.cache.release(self.key, state, self.version);
        crate::telemetry::cached(
            self.cache.count.load(Ordering::Relaxed),
            self.cache.bytes.load(Ordering::Relaxed),
        );
    }

    #[cfg(feature = "redis")]
    fn fleet_key(&self) -> String {
        format!("{:032x}", self.key)
    }
}
