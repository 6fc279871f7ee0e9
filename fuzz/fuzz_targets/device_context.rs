//! What a gateway hands the service for each device request: its id, `X-Device-Info`, the
//! single sign-on headers. The input is split at 0xFF bytes into those values. A device client
//! is made or a typed error names the bad value, never a panic; the id never shows in `Debug`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};
use tvpass::http::{HttpRequest, HttpTransport, SendFuture, TransportError};
use tvpass::{DeviceContext, DeviceInfo, Environment, PassError, PassService, PlatformIdentity};

struct Offline;

impl HttpTransport for Offline {
    fn send(&self, _: HttpRequest) -> SendFuture<'_> {
        Box::pin(async { Err(TransportError::Connect("offline".into())) })
    }
}

fn service() -> &'static PassService {
    static SERVICE: OnceLock<PassService> = OnceLock::new();
    SERVICE.get_or_init(|| {
        PassService::builder()
            .environment(Environment::Custom("http://127.0.0.1:9".into()))
            .service_provider("SP")
            .software_statement("statement")
            .http_transport(Arc::new(Offline))
            .build()
            .expect("the service builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let parts: Vec<String> = data
        .split(|b| *b == 0xFF)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let part = |i: usize| parts.get(i).filter(|p| !p.is_empty());
    let id = parts.first().cloned().unwrap_or_default();
    let mut device = DeviceContext::new(id.clone(), IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    if let Some(info) = part(1) {
        match DeviceInfo::from_header_value(info) {
            Ok(info) => device = device.device_info(info),
            Err(e) => assert!(matches!(e, PassError::InvalidConfiguration { .. }), "{e:?}"),
        }
    }
    if let Some(identity) = part(2) {
        device = device.platform_identity(PlatformIdentity::adobe_subject_token(identity.clone()));
    }
    if let Some(token) = part(3) {
        device = device.service_token(token.clone());
    }
    if let Some(ecid) = part(4) {
        device = device.visitor_id(ecid.clone());
    }
    if id.len() >= 8 {
        assert!(!format!("{device:?}").contains(&id), "the device id in Debug output");
    }
    match service().device(device) {
        Ok(client) => {
            assert_eq!(client.device_id().expose(), id);
            if id.len() >= 8 {
                assert!(!format!("{client:?}").contains(&id), "the device id in Debug output");
            }
        }
        Err(e) => assert!(matches!(e, PassError::InvalidConfiguration { .. }), "{e:?}"),
    }
});
