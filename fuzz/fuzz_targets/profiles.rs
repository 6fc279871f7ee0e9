//! The profiles answer (all, by MVPD, by code): typed profiles or a typed error, never a panic;
//! no attribute value (user identifiers among them) shows in Debug output.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(profiles) = tvpass::decoders::profiles(data) {
        profiles
            .iter()
            .for_each(common::assert_no_attribute_in_debug);
    }
});
