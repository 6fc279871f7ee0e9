//! Server to server: one `PassService` for many devices, against the emulator over real HTTP on
//! 127.0.0.1 with the emulator's throttling on (keyed, as the service keys it, by
//! `X-Forwarded-For`).

use base64::Engine;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use tvpass::{
    Decision, DeviceContext, DeviceInfo, Environment, PassClient, PassError, PassService,
    RateLimit, RetryPolicy,
};
use tvpass_emulator::{Emulator, EmulatorConfig, ThrottlingConfig, DEFAULT_SOFTWARE_STATEMENT};

const SP: &str = "REF30";
const MVPD: &str = "Cablevision";

async fn throttled_emulator(t: ThrottlingConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        throttling: t,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn service(emu: &Emulator) -> tvpass::PassServiceBuilder {
    PassService::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider(SP)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        })
}

/// A device of the documentation's address range (the header is data: every request goes to
/// 127.0.0.1).
fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n))
}

fn device(n: u32) -> DeviceContext {
    DeviceContext::new(format!("roku-device-{n}"), ip(n))
        .port(40_000 + (n % 20_000) as u16)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("SetTopBox".into()),
            os_name: Some("Roku OS".into()),
            ..Default::default()
        })
}

async fn login(emu: &Emulator, c: &PassClient) {
    let s = c.create_session(MVPD).await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    assert_eq!(c.await_profile(&s).await.unwrap().mvpd, MVPD);
}

fn header<'a>(r: &'a tvpass_emulator::LoggedRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_registration_serves_many_devices_each_with_its_own_identity() {
    let emu = throttled_emulator(ThrottlingConfig::default()).await;
    let svc = service(&emu).build().unwrap();
    let devices = 300u32;
    let mut tasks = Vec::new();
    for n in 0..devices {
        let svc = svc.clone();
        let base = emu.base_url();
        tasks.push(tokio::spawn(async move {
            let c = svc.device(device(n)).unwrap();
            let s = c.create_session(MVPD).await.unwrap();
            (n, s.code.unwrap(), base)
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    for (_, code, _) in &codes {
        emu.complete_authentication(code, Default::default())
            .unwrap();
    }
    let mut tasks = Vec::new();
    for (n, code, _) in codes {
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            let c = svc.device(device(n)).unwrap();
            assert_eq!(c.profile_for_code(&code).await.unwrap().unwrap().mvpd, MVPD);
            // A new handle of the same device finds the profile and the Permit cached.
            let c = svc.device(device(n)).unwrap();
            assert_eq!(c.profiles().await.unwrap().len(), 1);
            let pre = c.preauthorize(MVPD, &["news", "sports"]).await.unwrap();
            assert!(pre.iter().all(Decision::is_permit));
            let again = svc.device(device(n)).unwrap();
            again.preauthorize(MVPD, &["news"]).await.unwrap();
            for _ in 0..3 {
                let d = again.authorize(MVPD, "news").await.unwrap();
                assert!(d.is_permit(), "device {n}: {d:?}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(emu.count("/o/client/register"), 1);
    assert_eq!(emu.count("/o/client/token"), 1);
    let requests = emu.requests();
    assert_eq!(requests.iter().filter(|r| r.status == 429).count(), 0);
    // session, profile by code, preauthorize, 3 authorize: the cached profile and Permit
    // answered the rest.
    let device_calls: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/"))
        .filter(|r| !r.path.ends_with("/configuration"))
        .collect();
    assert_eq!(device_calls.len(), devices as usize * 6);
    for r in device_calls {
        let forwarded = header(r, "x-forwarded-for").expect("X-Forwarded-For");
        let n = u32::from(forwarded.parse::<Ipv4Addr>().unwrap())
            - u32::from(Ipv4Addr::new(198, 18, 0, 0));
        if let Some(id) = header(r, "ap-device-identifier") {
            let expected =
                base64::engine::general_purpose::STANDARD.encode(format!("roku-device-{n}"));
            assert_eq!(id, format!("fingerprint {expected}"), "{}", r.path);
        }
        if let Some(info) = header(r, "x-device-info") {
            let json: serde_json::Value = serde_json::from_slice(
                &base64::engine::general_purpose::STANDARD
                    .decode(info)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(json["connectionIp"], forwarded, "{}", r.path);
            assert_eq!(json["connectionPort"], 40_000 + (n % 20_000), "{}", r.path);
            assert_eq!(json["osName"], "Roku OS");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_noisy_device_never_slows_another() {
    let limit = ThrottlingConfig {
        enabled: true,
        requests_per_second: 4.0,
        burst: 3,
    };
    let emu = throttled_emulator(limit).await;
    let svc = service(&emu)
        .rate_limit(RateLimit {
            enabled: true,
            requests_per_second: 4.0,
            burst: 3,
        })
        .build()
        .unwrap();
    let noisy = svc.device(device(1)).unwrap();
    let quiet = svc.device(device(2)).unwrap();
    let alone = svc.device(device(3)).unwrap();
    login(&emu, &noisy).await;
    login(&emu, &quiet).await;
    login(&emu, &alone).await;
    // Buckets refill with time (the thing under test), so this wait is for time itself.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // This machine's time for 3 calls that nothing slows: the quiet device's bound below.
    let t = Instant::now();
    for _ in 0..3 {
        assert!(alone.authorize(MVPD, "news").await.unwrap().is_permit());
    }
    let unpaced = t.elapsed();
    let started = Instant::now();
    let loud = tokio::spawn(async move {
        for _ in 0..11 {
            noisy.authorize(MVPD, "news").await.unwrap();
        }
        started.elapsed()
    });
    tokio::time::sleep(Duration::from_millis(900)).await;
    let t = Instant::now();
    for _ in 0..3 {
        assert!(quiet.authorize(MVPD, "news").await.unwrap().is_permit());
    }
    let quiet_took = t.elapsed();
    let loud_took = loud.await.unwrap();
    // 11 calls after a burst of 3 at 4/s: at least 2 s for the noisy device; the quiet one's
    // burst is its own.
    assert!(loud_took >= Duration::from_millis(1900), "{loud_took:?}");
    // Paced behind the noisy one, its 3 calls would take at least 750 ms (4/s): they take
    // what 3 unpaced calls take here, with room for the other device's load.
    assert!(
        quiet_took < Duration::from_millis(600).max(unpaced * 3),
        "{quiet_took:?} (3 calls alone: {unpaced:?})"
    );
    assert_eq!(emu.requests().iter().filter(|r| r.status == 429).count(), 0);
}

#[tokio::test]
async fn device_state_is_bounded_and_an_evicted_device_asks_again() {
    let emu = throttled_emulator(ThrottlingConfig {
        enabled: false,
        ..Default::default()
    })
    .await;
    let svc = service(&emu)
        .max_devices(32)
        .max_cache_bytes(64 * 1024)
        .build()
        .unwrap();
    for n in 0..200 {
        login(&emu, &svc.device(device(n)).unwrap()).await;
        assert!(svc.cached_devices() <= 32, "{}", svc.cached_devices());
        assert!(svc.cached_bytes() <= 64 * 1024);
    }
    // The most recent device answers from its cache; the first was evicted and asks.
    emu.clear_requests();
    let recent = svc.device(device(199)).unwrap();
    assert_eq!(recent.profiles().await.unwrap().len(), 1);
    assert_eq!(emu.count("/api/v2/"), 0);
    let first = svc.device(device(0)).unwrap();
    assert!(first.cached_profiles().is_empty());
    assert_eq!(first.profiles().await.unwrap().len(), 1);
    assert_eq!(emu.count("/api/v2/"), 1);

    // A bound in bytes holds too: big profiles push out the least recently used.
    let small = service(&emu).max_cache_bytes(64 * 1024).build().unwrap();
    let mut attrs = serde_json::Map::new();
    attrs.insert("userID".into(), "x".repeat(2000).into());
    for n in 1000..1100 {
        let c = small.device(device(n)).unwrap();
        let s = c.create_session(MVPD).await.unwrap();
        emu.complete_authentication(s.code.as_deref().unwrap(), attrs.clone())
            .unwrap();
        c.await_profile(&s).await.unwrap();
        drop(c);
        assert!(
            small.cached_bytes() <= 64 * 1024,
            "{}",
            small.cached_bytes()
        );
    }
    assert!(small.cached_devices() < 100);
}

#[tokio::test]
async fn bad_device_input_is_a_typed_error_and_nothing_identifying_is_shown() {
    let emu = throttled_emulator(ThrottlingConfig::default()).await;
    let svc = service(&emu).build().unwrap();
    let err = svc.device(DeviceContext::new("", ip(1))).unwrap_err();
    assert!(
        matches!(&err, PassError::InvalidConfiguration { setting, .. } if *setting == "device_id"),
        "{err:?}"
    );
    let err = svc.device(DeviceContext::new("a\nb", ip(1))).unwrap_err();
    assert!(matches!(err, PassError::InvalidConfiguration { .. }));
    let err = svc
        .device(device(1).device_info(DeviceInfo {
            os_name: Some("Plan 9".into()),
            ..Default::default()
        }))
        .unwrap_err();
    assert!(matches!(err, PassError::InvalidConfiguration { .. }));
    assert!(matches!(
        PassService::builder().max_devices(0).build().unwrap_err(),
        PassError::InvalidConfiguration { .. }
    ));
    let ctx = device(7).service_token("secret-service-token");
    let shown = format!("{ctx:?} {:?} {svc:?}", svc.device(ctx.clone()).unwrap());
    for secret in ["roku-device-7", "198.18.0.7", "secret-service-token"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

/// A resolver that answers `localhost` with whichever emulator the test points it at.
struct Switch(std::sync::Arc<std::sync::Mutex<std::net::SocketAddr>>);

impl reqwest::dns::Resolve for Switch {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = *self.0.lock().unwrap();
        Box::pin(async move {
            Ok(Box::new(std::iter::once(addr))
                as Box<dyn Iterator<Item = std::net::SocketAddr> + Send>)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_dns_answer_is_used_within_the_connection_max_age() {
    assert!(tvpass::ReqwestTransport::DEFAULT_CONNECTION_MAX_AGE <= Duration::from_secs(30));
    let off = ThrottlingConfig {
        enabled: false,
        ..Default::default()
    };
    let a = throttled_emulator(off).await;
    let b = throttled_emulator(off).await;
    let addr_of = |e: &Emulator| -> std::net::SocketAddr {
        url::Url::parse(&e.base_url())
            .unwrap()
            .socket_addrs(|| None)
            .unwrap()[0]
    };
    let answer = std::sync::Arc::new(std::sync::Mutex::new(addr_of(&a)));
    let transport = tvpass::ReqwestTransport::builder()
        .connection_max_age(Duration::from_secs(1))
        .dns_resolver(std::sync::Arc::new(Switch(answer.clone())))
        .build()
        .unwrap();
    // No port in the URL: the port comes with the DNS answer, as the address does.
    let svc = PassService::builder()
        .environment(Environment::Custom("http://localhost".into()))
        .service_provider(SP)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .http_transport(std::sync::Arc::new(transport))
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .build()
        .unwrap();
    let c = svc.device(device(1)).unwrap();
    c.configuration().await.unwrap();
    assert!(a.count("/api/v2/") > 0);
    *answer.lock().unwrap() = addr_of(&b);
    let switched = Instant::now();
    // Calls keep going on a warm connection; within the age they reach the new address.
    let mut slowest_round = Duration::ZERO;
    let reached = loop {
        let round = Instant::now();
        let _ = c.refresh_profiles().await;
        if b.count("/api/v2/") > 0 {
            break switched.elapsed();
        }
        assert!(
            switched.elapsed() < Duration::from_secs(10),
            "never left the old address"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        slowest_round = slowest_round.max(round.elapsed());
    };
    // The age (1 s), then at most the next round of this loop, as slow as this machine makes
    // it: a call and the 100 ms between calls.
    assert!(
        reached <= Duration::from_millis(1500).max(Duration::from_secs(1) + slowest_round * 2),
        "{reached:?} (slowest round {slowest_round:?})"
    );
    let on_a = a.count("/api/v2/");
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.refresh_profiles().await.unwrap();
    assert_eq!(
        a.count("/api/v2/"),
        on_a,
        "the old address is no longer used"
    );
    assert!(matches!(
        tvpass::ReqwestTransport::builder()
            .connection_max_age(Duration::from_secs(31))
            .build()
            .unwrap_err(),
        PassError::InvalidConfiguration { .. }
    ));
}

#[tokio::test]
async fn a_device_never_sets_its_own_connection_address() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let svc = service(&emu).build().unwrap();
    let forged = || DeviceInfo {
        primary_hardware_type: Some("SetTopBox".into()),
        connection_ip: Some("203.0.113.66".into()),
        connection_port: Some(1),
        ..Default::default()
    };
    // With an observed port, and without one: the device's own values never go out.
    let with_port = DeviceContext::new("forger-1", ip(1))
        .port(51_234)
        .device_info(forged());
    let without_port = DeviceContext::new("forger-2", ip(2)).device_info(forged());
    for ctx in [with_port, without_port] {
        svc.device(ctx).unwrap().create_session(MVPD).await.unwrap();
    }
    let infos: Vec<(String, serde_json::Value)> = emu
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/") && r.path.contains("/sessions"))
        .map(|r| {
            let info = header(r, "x-device-info").expect("X-Device-Info");
            let json = base64::engine::general_purpose::STANDARD
                .decode(info)
                .unwrap();
            (
                header(r, "x-forwarded-for").unwrap().to_string(),
                serde_json::from_slice(&json).unwrap(),
            )
        })
        .collect();
    assert_eq!(infos.len(), 2, "{infos:?}");
    for (forwarded, json) in &infos {
        assert_eq!(json["connectionIp"], forwarded.as_str(), "{json}");
        assert_ne!(json["connectionIp"], "203.0.113.66");
        if forwarded == "198.18.0.1" {
            assert_eq!(json["connectionPort"], 51_234, "{json}");
        } else {
            assert_eq!(forwarded, "198.18.0.2");
            assert!(json.get("connectionPort").is_none(), "{json}");
        }
    }
}
