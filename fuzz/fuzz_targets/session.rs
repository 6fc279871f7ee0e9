//! The session answer (create, resume, partner SSO): a typed session or a typed error, never a
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tvpass::decoders::session(data);
});
