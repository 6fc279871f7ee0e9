//! `X-Device-Info` as a device hands it to a programmer's gateway: parsed into a DeviceInfo or
//! refused with a typed error, never a panic; what parses encodes back into a header value that
//! parses to the same DeviceInfo.
//!
//! `TVPASS_FUZZ_CANARY` plants a crash on inputs that start with its value: `run.sh --self-test`
//! uses it to show that a crash fails the run and prints its reproducer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tvpass::DeviceInfo;

fn canary() -> Option<&'static [u8]> {
    static CANARY: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    CANARY
        .get_or_init(|| {
            std::env::var("TVPASS_FUZZ_CANARY")
                .ok()
                .map(String::into_bytes)
        })
        .as_deref()
}

fuzz_target!(|data: &[u8]| {
    if canary().is_some_and(|c| data.starts_with(c)) {
        panic!("the planted canary");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(info) = DeviceInfo::from_header_value(text) {
        let again = DeviceInfo::from_header_value(&info.header_value());
        assert_eq!(
            again.ok().as_ref(),
            Some(&info),
            "a round trip changed the device info"
        );
    }
});
