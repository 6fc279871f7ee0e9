//! The logout answer: a typed action or a typed error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tvpass::decoders::logout(data);
});
