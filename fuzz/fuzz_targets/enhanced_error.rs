//! An enhanced error body (top level, 4xx/5xx): decoded or not, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(e) = tvpass::decoders::enhanced_error(data) {
        let _ = format!("{e:?}");
    }
});
