//! `X-Device-Info` as a device hands it to a programmer's gateway: parsed into a DeviceInfo or
//! refused with a typed error, never a panic; what parses encodes back into a header value that
//! parses to the same DeviceInfo.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tvpass::DeviceInfo;

fuzz_target!(|data: &[u8]| {
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
