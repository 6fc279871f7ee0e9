//! What the SDK keeps about one device between calls (its profiles, Permits, chosen MVPD and
//! session), and the compact form a service keeps it in while no call of the device runs.
//!
//! A service may hold the state of 100,000 devices: at rest each is a few hundred bytes of
//! [`pack`]ed data instead of its live form (mutexes, maps, a `BTreeMap` node per profile).
//! The live form is rebuilt only when a call reads the profiles or Permits; an `authorize`
//! reads neither.

use crate::model::{Mvpd, Profile};
use crate::sso::IdentityKeys;
use crate::storage::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The Permits cached by preauthorization: (MVPD, resource) → end of validity (ms).
#[cfg(not(feature = "service"))]
pub(crate) type Permits = HashMap<(String, String), i64>;
#[cfg(feature = "service")]
pub(crate) use crate::packed::Permits;
#[cfg(feature = "service")]
use crate::packed::{pack, unpack, Unpacked};

/// The most profiles a device keeps. A device has one per MVPD it signed in with, and a few
/// more under single sign-on; beyond this a broken or hostile answer could grow the cache
/// without end. Those valid longest are kept.
pub const MAX_PROFILES: usize = 64;

/// The most Permits a device keeps from preauthorization: a large channel line-up, with room
/// to spare. Those valid longest are kept; a resource whose Permit was dropped is asked again.
pub const MAX_PERMITS: usize = 1024;

/// Keeps at most [`MAX_PROFILES`] profiles, those valid longest, in their order.
pub(crate) fn bound_profiles(profiles: &mut Vec<Profile>) {
    if profiles.len() <= MAX_PROFILES {
        return;
    }
    let mut ends: Vec<i64> = profiles.iter().map(|p| p.not_after_ms).collect();
    let (_, cut, _) = ends.select_nth_unstable_by(MAX_PROFILES - 1, |a, b| b.cmp(a));
    let cut = *cut;
    // Profiles ending after the cut are all kept; those ending at it fill what room is left.
    let mut room = MAX_PROFILES - profiles.iter().filter(|p| p.not_after_ms > cut).count();
    profiles.retain(|p| {
        if p.not_after_ms > cut {
            true
        } else if p.not_after_ms == cut && room > 0 {
            room -= 1;
            true
        } else {
            false
        }
    });
}

/// The most resource text the Permits of a device hold, in bytes: [`MAX_PERMITS`] resources of
/// 256 bytes. A resource may be an MRSS document of up to 8 KiB
/// ([`MAX_RESOURCE_BYTES`](crate::MAX_RESOURCE_BYTES)), so the count alone would let a device
/// hold 8 MiB. Those valid longest are kept; a resource whose Permit was dropped is asked again.
pub const MAX_PERMIT_BYTES: usize = MAX_PERMITS * 256;

/// Keeps at most [`MAX_PERMITS`] Permits and [`MAX_PERMIT_BYTES`] of their resources, those
/// valid longest.
pub(crate) fn bound_permits(permits: &mut Permits) {
    bound_permit_count(permits);
    let bytes: usize = permits.keys().map(|(_, r)| r.len()).sum();
    if bytes <= MAX_PERMIT_BYTES {
        return;
    }
    let mut by_end: Vec<(i64, usize, (String, String))> = permits
        .drain()
        .map(|(key, until)| (until, key.1.len(), key))
        .collect();
    by_end.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut kept = 0;
    for (until, len, key) in by_end {
        if kept + len <= MAX_PERMIT_BYTES {
            kept += len;
            permits.insert(key, until);
        }
    }
}

fn bound_permit_count(permits: &mut Permits) {
    if permits.len() <= MAX_PERMITS {
        return;
    }
    let mut ends: Vec<i64> = permits.values().copied().collect();
    let (_, cut, _) = ends.select_nth_unstable_by(MAX_PERMITS - 1, |a, b| b.cmp(a));
    let cut = *cut;
    let mut room = MAX_PERMITS - permits.values().filter(|until| **until > cut).count();
    permits.retain(|_, until| {
        if *until > cut {
            true
        } else if *until == cut && room > 0 {
            room -= 1;
            true
        } else {
            false
        }
    });
}

/// One device's state.
pub(crate) struct DeviceState {
    /// Where a device app persists its profiles and chosen MVPD (`None` for a device served by
    /// a service).
    pub store: Option<Arc<Store>>,
    profiles: Mutex<Vec<Profile>>,
    /// The single sign-on identities under which the profiles were last read from the service
    /// (`None`: not yet). While an identity is set and differs, the cache may lack profiles that
    /// other apps of the same identity created, so the service is asked.
    profiles_checked: Mutex<Option<IdentityKeys>>,
    preauthorized: Mutex<Permits>,
    /// The MVPD picked, for a device without storage.
    selected: Mutex<Option<Mvpd>>,
    /// The packed form it came in (a service's device, taken from its cache).
    #[cfg(feature = "service")]
    packed: Mutex<Option<Box<[u8]>>>,
    /// Whether the live form was filled from `packed`.
    #[cfg(feature = "service")]
    unpacked: std::sync::atomic::AtomicBool,
    pub session_generation: AtomicU64,
    /// Bumped by every change of the profiles or Permits (a service packs the state again only
    /// when it changed).
    version: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DeviceState {
    /// A device app's state, with the profiles its storage keeps.
    pub fn new(store: Option<Arc<Store>>) -> Self {
        let profiles = store
            .as_ref()
            .and_then(|s| s.load::<Vec<Profile>>("profiles"))
            .unwrap_or_default();
        let mut profiles = profiles;
        bound_profiles(&mut profiles);
        let mut state = Self::empty();
        state.store = store;
        *state.profiles.get_mut().unwrap_or_else(|e| e.into_inner()) = profiles;
        state
    }

    fn empty() -> Self {
        Self {
            store: None,
            profiles: Mutex::new(Vec::new()),
            profiles_checked: Mutex::new(None),
            preauthorized: Mutex::new(HashMap::new()),
            selected: Mutex::new(None),
            #[cfg(feature = "service")]
            packed: Mutex::new(None),
            #[cfg(feature = "service")]
            unpacked: std::sync::atomic::AtomicBool::new(false),
            session_generation: AtomicU64::new(0),
            version: AtomicU64::new(0),
        }
    }

    /// A service device's state from its packed form (unpacked when first read).
    #[cfg(feature = "service")]
    pub fn from_packed(packed: Option<Box<[u8]>>) -> Self {
        let state = Self::empty();
        *lock(&state.packed) = packed;
        state
    }

    /// Fills the live form from the packed one, once. Readers wait for it, so that none sees a
    /// half-filled state.
    fn unpack(&self) {
        #[cfg(feature = "service")]
        {
            if self.unpacked.load(Ordering::Acquire) {
                return;
            }
            let packed = lock(&self.packed);
            if self.unpacked.load(Ordering::Acquire) {
                return;
            }
            if let Some(bytes) = packed.as_ref() {
                match unpack(bytes) {
                    Some(mut d) => {
                        bound_profiles(&mut d.profiles);
                        bound_permits(&mut d.permits);
                        *lock(&self.profiles) = d.profiles;
                        *lock(&self.profiles_checked) = d.checked;
                        *lock(&self.preauthorized) = d.permits;
                        *lock(&self.selected) = d.selected;
                    }
                    None => {
                        tracing::debug!("a cached device state could not be read; starting over")
                    }
                }
            }
            self.unpacked.store(true, Ordering::Release);
        }
    }

    /// The cached profiles.
    pub fn profiles(&self) -> MutexGuard<'_, Vec<Profile>> {
        self.unpack();
        lock(&self.profiles)
    }

    /// Under which identities the profiles were read from the service.
    pub fn profiles_checked(&self) -> MutexGuard<'_, Option<IdentityKeys>> {
        self.unpack();
        lock(&self.profiles_checked)
    }

    /// The cached Permits.
    pub fn preauthorized(&self) -> MutexGuard<'_, Permits> {
        self.unpack();
        lock(&self.preauthorized)
    }

    /// The MVPD picked (a device without storage).
    pub fn selected(&self) -> MutexGuard<'_, Option<Mvpd>> {
        self.unpack();
        lock(&self.selected)
    }

    /// Notes a change of the profiles, Permits or chosen MVPD.
    pub fn touch(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    /// The number of changes so far.
    #[cfg(feature = "service")]
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Persists the profiles (a device app's storage only).
    pub fn save_profiles(&self, profiles: &[Profile]) {
        self.touch();
        if let Some(s) = &self.store {
            s.save("profiles", &profiles);
        }
    }

    #[cfg(feature = "service")]
    /// The packed form of what is still valid at `now_ms`, and the last moment any of it is
    /// valid (`None`: nothing is). A state never unpacked, or unchanged since `version`, gives
    /// back the form it came in, moved out (its validity is as it was).
    pub fn pack(&self, now_ms: i64, version: u64) -> Packed {
        let mut packed = lock(&self.packed);
        if packed.is_some() && (!self.unpacked.load(Ordering::Relaxed) || self.version() == version)
        {
            if let Some(bytes) = packed.take() {
                return Packed::Unchanged(bytes);
            }
        }
        *packed = None;
        drop(packed);
        let d = Unpacked {
            profiles: lock(&self.profiles)
                .iter()
                .filter(|p| p.not_after_ms > now_ms)
                .cloned()
                .collect(),
            checked: lock(&self.profiles_checked).clone(),
            permits: lock(&self.preauthorized)
                .iter()
                .filter(|(_, until)| **until > now_ms)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            selected: lock(&self.selected).clone(),
        };
        let until = d.valid_until(now_ms);
        Packed::Changed(pack(&d), until)
    }
}

/// Where a device's state lives between its handles (a service's device cache): the handle
/// gives the state back there when it goes. The service implements it; the client, below the
/// service, knows only this.
#[cfg(feature = "service")]
pub(crate) trait DeviceHome: Send + Sync {
    /// The handle of `state` goes.
    fn release(&self, state: &Arc<DeviceState>);

    /// The device's key in a fleet's Redis (a digest: never the device's id).
    #[cfg(feature = "redis")]
    fn fleet_key(&self) -> String;
}

#[cfg(feature = "service")]
/// What [`DeviceState::pack`] gives.
pub(crate) enum Packed {
    /// The form the state came in: it did not change.
    Unchanged(Box<[u8]>),
    /// A new form, and the last moment anything in it is valid.
    Changed(Box<[u8]>, Option<i64>),
}

#[cfg(feature = "service")]
impl Packed {
    #[cfg(test)]
    fn bytes(self) -> Box<[u8]> {
        match self {
            Packed::Unchanged(b) | Packed::Changed(b, _) => b,
        }
    }
}

/// Reads a packed device state as a service does (fuzzing): `None` when it is not one, else
/// whether packing what was read gives it back, and the numbers of profiles and Permits kept.
#[cfg(feature = "service")]
#[doc(hidden)]
pub fn repack(bytes: &[u8]) -> Option<(bool, usize, usize)> {
    let read = unpack(bytes)?;
    let same = unpack(&pack(&read)).as_ref() == Some(&read);
    let state = DeviceState::from_packed(Some(bytes.into()));
    let kept = (state.profiles().len(), state.preauthorized().len());
    Some((same, kept.0, kept.1))
}

#[cfg(all(test, feature = "service"))]
mod tests {
    use super::*;
    use crate::model::{Attribute, ProfileType, TempPassInfo};
    use std::collections::BTreeMap;

    fn profile(mvpd: &str, kind: ProfileType) -> Profile {
        let mut attributes = BTreeMap::new();
        attributes.insert(
            "userID".to_string(),
            Attribute {
                value: "user-1".into(),
                encrypted: false,
            },
        );
        attributes.insert(
            "zip".to_string(),
            Attribute {
                value: "[\"10001\"]".into(),
                encrypted: true,
            },
        );
        Profile {
            mvpd: mvpd.into(),
            not_before_ms: 1,
            not_after_ms: 4_000_000_000_000,
            issuer: "Adobe".into(),
            profile_type: kind,
            attributes,
            temp_pass: Some(TempPassInfo {
                expiration_ms: Some(3),
                remaining_resources: Some(2),
                used_assets: vec!["news".into()],
            }),
        }
    }

    #[test]
    fn the_packed_form_gives_back_what_was_packed_and_no_more() {
        let state = DeviceState::from_packed(None);
        state.profiles().extend([
            profile("A", ProfileType::Regular),
            profile("B", ProfileType::Other("x".into())),
        ]);
        state.profiles().push(Profile {
            not_after_ms: 10,
            ..profile("expired", ProfileType::Regular)
        });
        state
            .preauthorized()
            .insert(("A".into(), "news".into()), 4_000_000_000_000);
        state.preauthorized().insert(("A".into(), "old".into()), 10);
        *state.profiles_checked() = Some(IdentityKeys::from_parts([
            Some("p".into()),
            None,
            Some("apple".into()),
        ]));
        let Packed::Changed(bytes, until) = state.pack(100, 0) else {
            panic!("a live state is packed anew");
        };
        assert_eq!(until, Some(4_000_000_000_000));
        let again = DeviceState::from_packed(Some(bytes.clone()));
        assert_eq!(
            *again.profiles(),
            vec![
                profile("A", ProfileType::Regular),
                profile("B", ProfileType::Other("x".into()))
            ]
        );
        assert_eq!(again.preauthorized().len(), 1);
        assert_eq!(*again.profiles_checked(), *state.profiles_checked());
        // Packed again without being read, it is the same.
        assert!(matches!(
            DeviceState::from_packed(Some(bytes.clone())).pack(100, 0),
            Packed::Unchanged(b) if b == bytes
        ));
        // Read but unchanged: the same form; changed: packed anew.
        let read = DeviceState::from_packed(Some(bytes.clone()));
        assert_eq!(read.profiles().len(), 2);
        assert!(matches!(read.pack(100, 0), Packed::Unchanged(b) if b == bytes));
        let read = DeviceState::from_packed(Some(bytes.clone()));
        read.profiles().pop();
        read.touch();
        assert_ne!(read.pack(100, 0).bytes(), bytes);
        // Anything cut short or altered reads as nothing, never a panic.
        for n in 0..bytes.len() {
            assert!(unpack(&bytes[..n]).is_none());
        }
        assert!(unpack(&[2]).is_none());
    }
}
