//! The packed form in which a service keeps a device's state between its calls: read back into
//! the same state or refused, never a panic; what is read packs back to the same state; a
//! device never keeps more than `MAX_PROFILES` profiles and `MAX_PERMITS` Permits.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((same, profiles, permits)) = tvpass::decoders::packed_device(data) {
        assert!(same, "packing what was read changed it");
        assert!(profiles <= tvpass::MAX_PROFILES, "{profiles} profiles kept");
        assert!(permits <= tvpass::MAX_PERMITS, "{permits} Permits kept");
    }
});
