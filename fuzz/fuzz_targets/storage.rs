//! What a device app's storage gives back after an update, a restore or another app's writes:
//! the device id, the profiles, the chosen MVPD, the token and the credentials, split from the
//! input at 0xFF bytes. A client always builds; the device id it sends is 1 to `MAX_ID_BYTES`
//! bytes without control characters (a corrupt one is replaced); it keeps at most
//! `MAX_PROFILES` profiles; a token or credentials taken into use can be sent.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;
use std::sync::Arc;
use tvpass::http::{HttpRequest, HttpTransport, SendFuture, TransportError};
use tvpass::{Environment, MemoryStorage, PassClient, Storage};

/// No request is made while a client is built and read: this transport fails every one.
struct Offline;

impl HttpTransport for Offline {
    fn send(&self, _: HttpRequest) -> SendFuture<'_> {
        Box::pin(async { Err(TransportError::Connect("offline".into())) })
    }
}

const KEYS: [&str; 5] = [
    "device_id",
    "profiles",
    "selected_mvpd",
    "token",
    "credentials",
];

fuzz_target!(|data: &[u8]| {
    let storage = Arc::new(MemoryStorage::new());
    let parts: Vec<String> = data
        .split(|b| *b == 0xFF)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    for (key, value) in KEYS.iter().zip(&parts) {
        let _ = storage.set(&format!("tvpass.SP.fuzz.{key}"), value);
    }
    let client = PassClient::builder()
        .environment(Environment::Custom("http://127.0.0.1:9".into()))
        .service_provider("SP")
        .software_statement("statement")
        .storage_namespace("fuzz")
        .storage(storage)
        .http_transport(Arc::new(Offline))
        .build()
        .expect("whatever storage holds, the client builds");
    let id = client.device_id().expose();
    assert!(
        !id.trim().is_empty()
            && id.len() <= tvpass::MAX_ID_BYTES
            && !id.chars().any(char::is_control),
        "a device id of {} bytes that the service would refuse",
        id.len()
    );
    let profiles = client.cached_profiles();
    assert!(
        profiles.len() <= tvpass::MAX_PROFILES,
        "{} profiles kept",
        profiles.len()
    );
    profiles
        .iter()
        .for_each(common::assert_no_attribute_in_debug);
    let _ = client.selected_mvpd();
    for (kind, text) in parts.iter().skip(3).take(2).enumerate() {
        if let Some((used, sendable)) = tvpass::decoders::read_back(kind as u8, text) {
            assert!(
                !used || sendable,
                "a stored value taken into use cannot be sent"
            );
        }
    }
});
