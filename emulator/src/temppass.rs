//! TempPass trials: found by identifier hash or device, timed from the first authorization,
//! counting distinct resources for promotional TempPass.

use crate::config::TempPassConfig;
use crate::headers::temppass_identity;
use crate::state::{Shared, Trial};
use axum::http::HeaderMap;
use serde_json::{json, Value};

/// Who asks for a TempPass.
pub struct Requester {
    /// Decoded device identifier.
    pub device: String,
    /// Identifier hash (promotional only).
    pub identity: Option<String>,
}

/// Whether the MVPD is a promotional TempPass (identity and resource count).
pub fn is_promotional(tp: &TempPassConfig) -> bool {
    tp.identity_key.is_some()
}

/// The requester of a TempPass MVPD; `None` when a promotional TempPass lacks a valid
/// identity header.
pub fn requester(
    shared: &Shared,
    tp: &TempPassConfig,
    headers: &HeaderMap,
    device: String,
) -> Option<Requester> {
    let identity = match &tp.identity_key {
        Some(key) => Some(temppass_identity(
            headers,
            key,
            shared.config.require_hashed_identity,
        )?),
        None => None,
    };
    Some(Requester { device, identity })
}

/// Index of the requester's trial: by identifier hash first, then by device (the documented
/// table: either one existing means that existing trial).
pub fn find(trials: &[Trial], who: &Requester) -> Option<usize> {
    who.identity
        .as_ref()
        .and_then(|id| trials.iter().position(|t| t.identities.contains(id)))
        .or_else(|| trials.iter().position(|t| t.devices.contains(&who.device)))
}

/// Links the requester's device and identity to a trial.
pub fn link(trial: &mut Trial, who: &Requester) {
    trial.devices.insert(who.device.clone());
    if let Some(id) = &who.identity {
        trial.identities.insert(id.clone());
    }
}

/// A new trial starting now.
pub fn start(tp: &TempPassConfig, who: &Requester, now: i64) -> Trial {
    let mut t = Trial {
        started_at: now,
        expires_at: now + tp.ttl_secs as i64 * 1000,
        ..Trial::default()
    };
    link(&mut t, who);
    t
}

/// Resources the trial may still play (promotional), `None` for basic TempPass.
pub fn remaining(tp: &TempPassConfig, t: &Trial) -> Option<u32> {
    tp.max_resources
        .map(|max| max.saturating_sub(t.used_assets.len() as u32))
}

/// The temporary profile of a trial.
pub fn profile(tp: &TempPassConfig, t: &Trial, device: &str) -> Value {
    let plain = |v: Value| json!({"value": v, "state": "plain"});
    let user = format!("temppass_{:016x}", fxhash(device));
    let mut attributes = json!({
        "expiration_date": plain(json!(t.expires_at)),
        "userID": plain(json!(user)),
    });
    if let Some(rem) = remaining(tp, t) {
        attributes["remaining_resources"] = plain(json!(rem));
        attributes["used_assets"] = plain(json!(t.used_assets));
    }
    json!({
        "notBefore": t.started_at,
        "notAfter": t.expires_at,
        "issuer": "Adobe",
        "type": "temporary",
        "attributes": attributes,
    })
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}
