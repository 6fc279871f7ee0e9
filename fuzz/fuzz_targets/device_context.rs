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

/// The device's context under `id`, from the other parts of the input.
fn context(id: &str, parts: &[String]) -> DeviceContext {
    let part = |i: usize| parts.get(i).filter(|p| !p.is_empty());
    let mut device = DeviceContext::new(id, IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
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
    device
}

fuzz_target!(|data: &[u8]| {
    let parts: Vec<String> = data
        .split(|b| *b == 0xFF)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let id = parts.first().cloned().unwrap_or_default();
    // The id must not show; text that also shows with the id masked (a field's name, a value of
    // the device information) comes from elsewhere. The mask is itself a valid id of the same
    // length, so that a client is built for it too: an id such as `PassClient { base_url: "h`
    // shows in every client's Debug output, masked or not.
    let masked = "#".repeat(id.len());
    let shows =
        |debug: &dyn Fn(&str) -> String| !debug(&masked).contains(&id) && debug(&id).contains(&id);
    let check_id = id.len() >= 8;
    if check_id {
        assert!(
            !shows(&|i| format!("{:?}", context(i, &parts))),
            "the device id in a DeviceContext's Debug output"
        );
    }
    match service().device(context(&id, &parts)) {
        Ok(client) => {
            assert_eq!(client.device_id().expose(), id);
            if check_id {
                let debug = |i: &str| {
                    service()
                        .device(context(i, &parts))
                        .map(|c| format!("{c:?}"))
                        .unwrap_or_default()
                };
                assert!(!shows(&debug), "the device id in a client's Debug output");
            }
        }
        Err(e) => assert!(matches!(e, PassError::InvalidConfiguration { .. }), "{e:?}"),
    }
});
