//! A fleet of three `PassService` instances sharing their state in a real Redis server
//! (Debian's `redis-server`, started here on a free loopback port), against the emulator with
//! its throttling on, keyed by `X-Forwarded-For`.
#![cfg(feature = "redis")]

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use redis_server::Redis;

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tvpass::{Decision, DeviceContext, DeviceInfo, Environment, PassService, RetryPolicy};
use tvpass_emulator::{Emulator, EmulatorConfig, Fault, DEFAULT_SOFTWARE_STATEMENT};

const SP: &str = "REF30";
const MVPD: &str = "Cablevision";
/// The fleet's key (32 bytes in base64), as an operator sets it in `TVPASS_FLEET_KEY`.
const KEY: &str = "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=";

/// Every log line of the test binary (the services' tasks run on several threads).
fn logs() -> &'static common::Capture {
    static CAPTURE: OnceLock<common::Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = common::Capture::default();
        let sink = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        capture
    })
}

/// Held by the tests that read a value under another key: the log is the whole binary's, so a
/// test that counts "does not open" warnings runs alone among those that cause them.
static UNREADABLE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn fleet(emu: &Emulator, redis: &Redis) -> Vec<PassService> {
    (0..3)
        .map(|_| {
            PassService::builder()
                .environment(Environment::Custom(emu.base_url()))
                .service_provider(SP)
                .software_statement(DEFAULT_SOFTWARE_STATEMENT)
                .retry(RetryPolicy {
                    initial_backoff: Duration::from_millis(20),
                    max_backoff: Duration::from_millis(200),
                    ..RetryPolicy::default()
                })
                .redis(redis.url())
                .fleet_key(KEY)
                .fleet_instances(3)
                // 1,000 devices, three instances, the emulator, Redis and the binary's other
                // tests share two cores: a Redis answer later than this is a fallback, and a
                // request the count below does not expect. The longest the SDK takes.
                .redis_timeout(Duration::from_secs(5))
                .build()
                .unwrap()
        })
        .collect()
}

fn device(n: u32) -> DeviceContext {
    let ip = IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n));
    DeviceContext::new(format!("web-tv-{n}"), ip).device_info(DeviceInfo {
        primary_hardware_type: Some("TV".into()),
        os_name: Some("webOS".into()),
        ..Default::default()
    })
}

/// Picks the instance of each call at random (a load balancer), the same way every run.
struct Spread(u64);

impl Spread {
    fn pick<'a>(&mut self, fleet: &'a [PassService]) -> &'a PassService {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        &fleet[((self.0 >> 33) % fleet.len() as u64) as usize]
    }
}

fn throttled(emu: &Emulator) -> usize {
    emu.requests().iter().filter(|r| r.status == 429).count()
}

async fn login(emu: &Emulator, fleet: &[PassService], n: u32, spread: &mut Spread) {
    let s = spread
        .pick(fleet)
        .device(device(n))
        .unwrap()
        .create_session(MVPD)
        .await
        .unwrap();
    let code = s.code.unwrap();
    emu.complete_authentication(&code, Default::default())
        .unwrap();
    let p = spread
        .pick(fleet)
        .device(device(n))
        .unwrap()
        .profile_for_code(&code)
        .await
        .unwrap();
    assert_eq!(p.unwrap().mvpd, MVPD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_three_registers_once_and_keeps_every_device_within_its_limit() {
    logs();
    let redis = Redis::start();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let fleet = Arc::new(fleet(&emu, &redis));
    let emu = Arc::new(emu);
    let devices = 1000u32;
    let mut tasks = Vec::new();
    for n in 0..devices {
        let (fleet, emu) = (fleet.clone(), emu.clone());
        tasks.push(tokio::spawn(async move {
            let mut spread = Spread(u64::from(n) + 1);
            login(&emu, &fleet, n, &mut spread).await;
            // Another instance finds the profile in the fleet's state: no request.
            let c = spread.pick(&fleet).device(device(n)).unwrap();
            assert_eq!(c.profiles().await.unwrap().len(), 1);
            let pre = spread
                .pick(&fleet)
                .device(device(n))
                .unwrap()
                .preauthorize(MVPD, &["news", "sports"])
                .await
                .unwrap();
            assert!(pre.iter().all(Decision::is_permit));
            // Permits cached by one instance answer on another.
            let again = spread
                .pick(&fleet)
                .device(device(n))
                .unwrap()
                .preauthorize(MVPD, &["sports"])
                .await
                .unwrap();
            assert!(again[0].is_permit());
            // 3 + 8 = 11 requests: past the burst of 10, the fleet paces the device.
            for _ in 0..8 {
                let d = spread
                    .pick(&fleet)
                    .device(device(n))
                    .unwrap()
                    .authorize(MVPD, "news")
                    .await
                    .unwrap();
                assert!(d.is_permit(), "device {n}: {d:?}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        emu.count("/o/client/register"),
        1,
        "one register for the fleet"
    );
    assert_eq!(emu.count("/o/client/token"), 1, "one token for the fleet");
    assert_eq!(throttled(&emu), 0, "no 429");
    let device_calls = emu
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/") && !r.path.ends_with("/configuration"))
        .count();
    let mut by_path = std::collections::BTreeMap::new();
    for r in emu.requests() {
        let kind = r.path.split('/').take(5).collect::<Vec<_>>().join("/");
        *by_path.entry(format!("{} {kind}", r.method)).or_insert(0) += 1;
    }
    assert_eq!(
        device_calls,
        devices as usize * 11,
        "{by_path:?}; Redis away {} times",
        logs().text().matches("cannot be reached").count()
    );
    let trips: u64 = fleet.iter().map(PassService::redis_round_trips).sum();
    eprintln!("{devices} devices, {device_calls} device requests, {trips} Redis round trips");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_redis_mid_run_fails_no_call_and_the_state_converges_when_it_returns() {
    let capture = logs();
    let mut redis = Redis::start();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let fleet = Arc::new(fleet(&emu, &redis));
    let emu = Arc::new(emu);
    let devices = 1000u32;
    let failures = Arc::new(AtomicU64::new(0));

    let run = |phase: u32, calls: u32| {
        let (fleet, emu, failures) = (fleet.clone(), emu.clone(), failures.clone());
        async move {
            let mut tasks = Vec::new();
            for n in 0..devices {
                let (fleet, emu, failures) = (fleet.clone(), emu.clone(), failures.clone());
                tasks.push(tokio::spawn(async move {
                    let mut spread = Spread(u64::from(n) * 31 + u64::from(phase));
                    if phase == 0 {
                        login(&emu, &fleet, n, &mut spread).await;
                    }
                    for _ in 0..calls {
                        match spread
                            .pick(&fleet)
                            .device(device(n))
                            .unwrap()
                            .authorize(MVPD, "news")
                            .await
                        {
                            Ok(d) if d.is_permit() => {}
                            other => {
                                eprintln!("device {n} phase {phase}: {other:?}");
                                failures.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
    };

    // Redis up: login and 2 calls (4 requests per device).
    run(0, 2).await;
    // Redis gone: 3 calls each, at each instance's share of the pace.
    redis.kill();
    let outage = Instant::now();
    run(1, 3).await;
    eprintln!(
        "3 calls per device without Redis took {:?}",
        outage.elapsed()
    );
    // Redis back (empty: it kept nothing): 3 more calls each.
    redis.restart();
    // Each instance rests a second after a failure, then reconnects: wait until every one of
    // them answers a PING through its own connection, not for a fixed time.
    let waited = Instant::now();
    for s in fleet.iter() {
        while s.redis_reachable().await != Some(true) {
            assert!(
                waited.elapsed() < Duration::from_secs(30),
                "an instance never reached Redis again"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    run(2, 3).await;

    assert_eq!(failures.load(Ordering::Relaxed), 0, "no failed call");
    assert_eq!(throttled(&emu), 0, "no 429");
    assert_eq!(emu.count("/o/client/register"), 1);
    let text = capture.text();
    assert!(
        text.contains("Redis cannot be reached"),
        "the warning is logged"
    );
    assert!(text.contains("Redis answers again"));

    // Converged: the restarted Redis holds what the fleet learns again. One instance asks
    // the service for a device's profiles; the other two find them in Redis.
    emu.clear_requests();
    for n in 0..20 {
        for s in fleet.iter() {
            assert_eq!(
                s.device(device(n)).unwrap().profiles().await.unwrap().len(),
                1
            );
        }
    }
    assert_eq!(emu.count("/api/v2/"), 20);
    for secret in ["web-tv-1", "198.18.0.1", "access_token", "client_secret"] {
        assert!(!text.contains(secret), "{secret} in the logs");
    }
}

/// A service token: a JWS naming its subject (the emulator does not check the signature).
fn service_token(sub: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"sub": sub, "iss": "idp", "aud": "Adobe", "iat": 1, "exp": 4_000_000_000i64})
            .to_string(),
    );
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_sign_on_device_is_asked_for_its_profiles_once_across_the_fleet() {
    let redis = Redis::start();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let fleet = fleet(&emu, &redis);
    let token = service_token("programmer-user-9");
    let sso = |n: u32| device(n).service_token(token.clone());
    let c = fleet[0].device(sso(5)).unwrap();
    let s = c.create_session(MVPD).await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    c.await_profile(&s).await.unwrap();
    drop(c);
    emu.clear_requests();
    // The first instance asks once under this identity; the others find that it did.
    for s in fleet.iter() {
        assert_eq!(s.device(sso(5)).unwrap().profiles().await.unwrap().len(), 1);
    }
    assert_eq!(emu.count("/api/v2/REF30/profiles"), 1);
    // Another subject is another identity: asked again.
    let other = device(5).service_token(service_token("programmer-user-10"));
    fleet[2].device(other).unwrap().profiles().await.unwrap();
    assert_eq!(emu.count("/api/v2/REF30/profiles"), 2);
}

/// Every key and value in the Redis server, read as an operator (or an intruder) reads them.
fn dump(redis: &Redis) -> Vec<(String, String)> {
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-p", &redis.port.to_string(), "--no-raw"])
            .args(args)
            .output()
            .expect("redis-cli (Debian's redis-tools) must be installed");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["--scan"])
        .lines()
        .map(|k| k.trim_matches('"').to_string())
        .filter(|k| !k.is_empty())
        .map(|k| {
            let v = cli(&["GET", &k]);
            (k, v)
        })
        .collect()
}

fn set(redis: &Redis, key: &str, value: &str) {
    let ok = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "SET", key, value])
        .output()
        .unwrap();
    assert!(ok.status.success());
}

fn instance(emu: &Emulator, redis: &Redis, key: &str, previous: Option<&str>) -> PassService {
    let b = PassService::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider(SP)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .redis(redis.url())
        .fleet_key(key)
        .redis_timeout(Duration::from_secs(2));
    match previous {
        Some(p) => b.fleet_previous_key(p),
        None => b,
    }
    .build()
    .unwrap()
}

/// The value of `name` in an `application/x-www-form-urlencoded` body.
fn form_value(body: &str, name: &str) -> String {
    url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_sealed_in_redis_and_a_value_that_does_not_open_is_fetched_again() {
    const NEW_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let _alone = UNREADABLE.lock().await;
    let capture = logs();
    // The log is the binary's since it started: count this test's warnings only.
    let earlier = capture.text().matches("does not open").count();
    let redis = Redis::start();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let a = instance(&emu, &redis, KEY, None);
    let c = a.device(device(1)).unwrap();
    let s = c.create_session(MVPD).await.unwrap();
    let mut attributes = serde_json::Map::new();
    attributes.insert("userID".into(), "subscriber-7be1c2d9".into());
    attributes.insert("zip".into(), "zip-90210-private".into());
    emu.complete_authentication(s.code.as_deref().unwrap(), attributes)
        .unwrap();
    c.await_profile(&s).await.unwrap();
    assert!(c.preauthorize(MVPD, &["news"]).await.unwrap()[0].is_permit());
    drop(c);

    // What an intruder reading Redis sees: no secret, no token, no attribute value.
    let requests = emu.requests();
    let token_body = &requests
        .iter()
        .find(|r| r.path == "/o/client/token")
        .unwrap()
        .body;
    let secrets = [
        form_value(token_body, "client_secret"),
        form_value(token_body, "client_id"),
        requests
            .iter()
            .find_map(|r| r.headers.iter().find(|(k, _)| k == "authorization"))
            .map(|(_, v)| v.trim_start_matches("Bearer ").to_string())
            .unwrap(),
        "subscriber-7be1c2d9".into(),
        "zip-90210-private".into(),
        "client_secret".into(),
        "access_token".into(),
        "userID".into(),
    ];
    let values = dump(&redis);
    let sealed: Vec<_> = values
        .iter()
        .filter(|(k, _)| {
            k.contains(":dcr:credentials") || k.contains(":dcr:token") || k.contains(":device:")
        })
        .collect();
    assert_eq!(sealed.len(), 3, "{values:?}");
    for (k, v) in &values {
        for s in &secrets {
            assert!(!v.contains(s.as_str()), "{k} shows a secret in clear text");
        }
    }
    for (k, v) in &sealed {
        assert!(v.trim_matches('"').starts_with("tvp1."), "{k}: {v}");
    }

    // Rotation: an instance with the new key, and the old one to read, needs nothing again.
    let b = instance(&emu, &redis, NEW_KEY, Some(KEY));
    let before = emu.requests().len();
    assert_eq!(
        b.device(device(1)).unwrap().profiles().await.unwrap().len(),
        1
    );
    assert_eq!(
        emu.requests().len(),
        before,
        "served from the fleet's state"
    );
    let warnings = |t: &str| t.matches("does not open").count() - earlier;
    assert_eq!(warnings(&capture.text()), 0);

    // A tampered device value reads as missing: the profiles are asked for again.
    let (device_key, device_value) = values.iter().find(|(k, _)| k.contains(":device:")).unwrap();
    let mut tampered = device_value.trim_matches('"').to_string().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'x' { b'y' } else { b'x' };
    set(&redis, device_key, &String::from_utf8(tampered).unwrap());
    let c = instance(&emu, &redis, KEY, None);
    let profiles = emu.count(&format!("/api/v2/{SP}/profiles"));
    assert_eq!(
        c.device(device(1)).unwrap().profiles().await.unwrap().len(),
        1
    );
    assert_eq!(emu.count(&format!("/api/v2/{SP}/profiles")), profiles + 1);
    assert_eq!(warnings(&capture.text()), 1, "one warning");

    // A token sealed under a key this instance lacks reads as missing: it fetches a new one.
    let token_key = values
        .iter()
        .find(|(k, _)| k.contains(":dcr:token"))
        .map(|(k, _)| k.clone())
        .unwrap();
    set(
        &redis,
        &token_key,
        "tvp1.00c0ffee.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    let d = instance(&emu, &redis, KEY, None);
    d.device(device(2))
        .unwrap()
        .create_session(MVPD)
        .await
        .unwrap();
    assert_eq!(emu.count("/o/client/token"), 2, "a new token for the fleet");
    assert_eq!(
        emu.count("/o/client/register"),
        1,
        "the credentials still open"
    );
    assert_eq!(
        warnings(&capture.text()),
        2,
        "one warning from each instance"
    );
    let stored = dump(&redis);
    let token = stored.iter().find(|(k, _)| *k == token_key).unwrap();
    assert!(token.1.trim_matches('"').starts_with("tvp1."));
}

#[test]
fn a_fleet_built_outside_a_runtime_is_an_error_not_a_panic() {
    let built = PassService::builder()
        .service_provider(SP)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .redis("redis://127.0.0.1:9/0")
        .fleet_key(KEY)
        .build();
    assert!(
        matches!(
            built,
            Err(tvpass::PassError::InvalidConfiguration {
                setting: "redis",
                ..
            })
        ),
        "{built:?}"
    );
}

#[tokio::test]
async fn a_fleet_without_a_key_does_not_start_unless_told_to_keep_plain_text() {
    let b = || {
        PassService::builder()
            .service_provider(SP)
            .software_statement(DEFAULT_SOFTWARE_STATEMENT)
            .redis("redis://127.0.0.1:9/0")
    };
    match b().build() {
        Err(tvpass::PassError::InvalidConfiguration { setting, reason }) => {
            assert_eq!(setting, "fleet_key");
            assert!(reason.contains("insecure_plaintext"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    for bad in ["not base64!", "c2hvcnQ="] {
        assert!(b().fleet_key(bad).build().is_err(), "{bad}");
    }
    b().insecure_plaintext().build().unwrap();
    b().fleet_key(KEY).build().unwrap();
}

/// One Redis command through `redis-cli`, its answer as text.
fn redis_cli(redis: &Redis, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "--raw"])
        .args(args)
        .output()
        .expect("redis-cli (Debian's redis-tools) must be installed");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The one key matching `pattern`, once it exists (at most 10 s).
async fn await_key(redis: &Redis, pattern: &str) -> String {
    let started = Instant::now();
    loop {
        let keys = redis_cli(redis, &["--scan", "--pattern", pattern]);
        if let Some(k) = keys.lines().find(|k| !k.is_empty()) {
            return k.to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no {pattern}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_lock_is_freed_only_by_its_owner() {
    let redis = Redis::start();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    // Its own lock, freed by its owner once the token is in.
    let a = instance(&emu, &redis, KEY, None);
    a.warm_up().await.unwrap();
    assert_eq!(
        redis_cli(&redis, &["--scan", "--pattern", "*:dcr:refresh"]),
        ""
    );
    let token_key = await_key(&redis, "*:dcr:token").await;

    // The token gone, another instance refreshes, slowly; meanwhile its lock expires and a
    // third instance takes it (its own owner token).
    redis_cli(&redis, &["DEL", &token_key]);
    emu.inject_fault("/o/client/token", Fault::Delay { ms: 1500 }, 1);
    let b = instance(&emu, &redis, KEY, None);
    let refresh = tokio::spawn(async move { b.warm_up().await });
    let lock = await_key(&redis, "*:dcr:refresh").await;
    let owner = redis_cli(&redis, &["GET", &lock]);
    assert_eq!(owner.len(), 32, "a random owner token: {owner}");
    assert!(owner.bytes().all(|b| b.is_ascii_hexdigit()), "{owner}");
    redis_cli(&redis, &["SET", &lock, "the-next-owner", "PX", "30000"]);
    refresh.await.unwrap().unwrap();
    assert_eq!(
        emu.armed_faults(),
        0,
        "the slow token answer was the one served"
    );
    assert_eq!(
        redis_cli(&redis, &["GET", &lock]),
        "the-next-owner",
        "the first owner's unlock left the next owner's lock"
    );
    // A second lock of the same instance has another owner token.
    redis_cli(&redis, &["DEL", &lock, &token_key]);
    emu.inject_fault("/o/client/token", Fault::Delay { ms: 1500 }, 1);
    let c = instance(&emu, &redis, KEY, None);
    let refresh = tokio::spawn(async move { c.warm_up().await });
    let lock = await_key(&redis, "*:dcr:refresh").await;
    assert_ne!(redis_cli(&redis, &["GET", &lock]), owner);
    refresh.await.unwrap().unwrap();
    assert_eq!(
        redis_cli(&redis, &["--scan", "--pattern", "*:dcr:refresh"]),
        ""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_addresses_and_devices_are_keyed_by_the_fleet_key() {
    use sha2::Digest;
    const OTHER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let _alone = UNREADABLE.lock().await;
    let redis = Redis::start();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (a, b) = (
        instance(&emu, &redis, KEY, None),
        instance(&emu, &redis, KEY, None),
    );
    let c = a.device(device(7)).unwrap();
    let session = c.create_session(MVPD).await.unwrap();
    emu.complete_authentication(session.code.as_deref().unwrap(), Default::default())
        .unwrap();
    c.await_profile(&session).await.unwrap();
    drop(c);
    // The other instance finds the profile, and paces its own request in the same bucket.
    let c = b.device(device(7)).unwrap();
    assert_eq!(c.profiles().await.unwrap().len(), 1);
    assert!(c.preauthorize(MVPD, &["news"]).await.unwrap()[0].is_permit());
    drop(c);
    let keys = |kind: &str| -> Vec<String> {
        redis_cli(&redis, &["--scan", "--pattern", &format!("*:{kind}:*")])
            .lines()
            .map(str::to_string)
            .collect()
    };
    // Two instances with one fleet key share the device's pace and its state.
    let (pace, devices) = (keys("pace"), keys("device"));
    assert_eq!(pace.len(), 1, "{pace:?}");
    assert_eq!(devices.len(), 1, "{devices:?}");
    // No key is a digest anyone can compute from the address or the device id.
    let ip = "198.18.0.7";
    let ip_digest = hex(&sha2::Sha256::digest(ip)[..16]);
    let all = redis_cli(&redis, &["--scan"]);
    assert!(!all.contains(&ip_digest) && !all.contains(ip), "{all}");
    assert!(!all.contains("web-tv-7"), "{all}");
    let mut id = sha2::Sha256::new();
    id.update(SP.as_bytes());
    id.update([0]);
    id.update(b"web-tv-7");
    let id = u128::from_le_bytes(id.finalize()[..16].try_into().unwrap());
    assert!(!all.contains(&format!("{id:032x}")), "{all}");

    // Another fleet key names them otherwise; with the first as previous, the state is found.
    let other = instance(&emu, &redis, OTHER_KEY, None);
    other.device(device(7)).unwrap().profiles().await.unwrap();
    assert_eq!(keys("pace").len(), 2);
    let rotating = instance(&emu, &redis, OTHER_KEY, Some(KEY));
    let before = emu.count(&format!("/api/v2/{SP}/profiles"));
    let c = rotating.device(device(7)).unwrap();
    assert_eq!(c.profiles().await.unwrap().len(), 1);
    assert_eq!(emu.count(&format!("/api/v2/{SP}/profiles")), before);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
