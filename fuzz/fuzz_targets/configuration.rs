//! The configuration answer: a typed configuration or a typed error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tvpass::decoders::configuration(data);
});
