//! What a fleet instance reads from Redis, written by another instance or by anyone who can
//! write to that Redis: a device's state (profiles, Permits, identities), the access token and
//! the client credentials. The first byte picks the value. Never a panic; a device keeps at most
//! `MAX_PROFILES` profiles and `MAX_PERMITS` Permits, and no attribute value shows in `Debug`;
//! a token or credentials taken into use can be sent.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match kind % 3 {
        0 => {
            let (profiles, permits) = tvpass::decoders::fleet_device(text);
            assert!(
                profiles.len() <= tvpass::MAX_PROFILES,
                "{} profiles kept",
                profiles.len()
            );
            assert!(permits <= tvpass::MAX_PERMITS, "{permits} Permits kept");
            profiles
                .iter()
                .for_each(common::assert_no_attribute_in_debug);
        }
        k => {
            if let Some((used, sendable)) = tvpass::decoders::read_back(k - 1, text) {
                assert!(!used || sendable, "a value taken into use cannot be sent");
            }
        }
    }
});
