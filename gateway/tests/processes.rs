//! The gateway as operators run it: `tvpass-gateway` processes configured by their
//! environment, against the emulator (in this test, throttling on) over real HTTP on 127.0.0.1.
//! Three of them and a `redis-server` form a fleet for 1,000 devices; one is scraped for its
//! metrics after a journey; one is stopped with calls in flight.

mod common;
#[path = "../../tests/common/redis_server.rs"]
mod redis_server;

use common::{GatewayProcess, DEVICE_KEY};
use redis_server::Redis;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass_emulator::{Emulator, Fault, DEFAULT_SOFTWARE_STATEMENT};

const MVPD: &str = "Cablevision";
const KEY: &str = "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=";

fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n))
}

/// Enrols device `n` (from its own address) through `gateway`: its bearer token.
async fn enrol(http: &reqwest::Client, gateway: &str, n: u32) -> String {
    let r = http
        .post(format!("{gateway}/v1/devices"))
        .header("x-forwarded-for", ip(n).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// One device's journey through a gateway: enrol, sign in, the profile, one authorization;
/// its token.
async fn journey(http: &reqwest::Client, emu: &Emulator, gateway: &str, n: u32) -> String {
    let token = enrol(http, gateway, n).await;
    let call = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{gateway}{path}"))
            .bearer_auth(&token)
            .header("x-forwarded-for", ip(n).to_string())
    };
    let started: serde_json::Value = call(reqwest::Method::POST, "/v1/sessions")
        .json(&serde_json::json!({ "mvpd": MVPD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = started["code"].as_str().unwrap().to_string();
    emu.complete_authentication(&code, Default::default())
        .unwrap();
    let profile = call(reqwest::Method::GET, &format!("/v1/profiles?code={code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    let decision: serde_json::Value = call(reqwest::Method::POST, "/v1/authorize")
        .json(&serde_json::json!({ "mvpd": MVPD, "resource": "news" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(decision["permit"], true, "device {n}: {decision}");
    token
}

async fn health(http: &reqwest::Client, gateway: &str) -> serde_json::Value {
    let r = http.get(format!("{gateway}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateway_processes_and_redis_serve_1000_devices_with_one_registration() {
    let mut redis = Redis::start();
    let emu = Arc::new(Emulator::start(Default::default()).await.unwrap());
    let env = [
        ("TVPASS_REDIS_URL", redis.url()),
        ("TVPASS_FLEET_KEY", KEY.to_string()),
        ("TVPASS_FLEET_INSTANCES", "3".to_string()),
    ];
    let gateways: Vec<GatewayProcess> = (0..3).map(|_| GatewayProcess::start(&emu, &env)).collect();
    let urls: Arc<Vec<String>> = Arc::new(gateways.iter().map(|g| g.url.clone()).collect());
    let admins: Vec<String> = gateways.iter().map(|g| g.admin.clone()).collect();
    let http = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000u32)
        .map(|n| {
            let (http, emu, urls) = (http.clone(), emu.clone(), urls.clone());
            tokio::spawn(async move {
                // Round robin, as a load balancer spreads devices.
                let gateway = &urls[n as usize % urls.len()];
                journey(&http, &emu, gateway, n).await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "1,000 journeys through 3 gateways in {:?}",
        started.elapsed()
    );
    assert_eq!(
        emu.count("/o/client/register"),
        1,
        "one register for the fleet"
    );
    assert_eq!(emu.count("/o/client/token"), 1, "one token for the fleet");
    assert_eq!(
        emu.requests().iter().filter(|r| r.status == 429).count(),
        0,
        "no 429"
    );
    for url in &admins {
        let h = health(&http, url).await;
        assert_eq!(h["redis"], "up", "{h}");
        assert_eq!(h["failingFast"], false, "{h}");
    }
    // Without Redis, each instance still serves (health stays 200) and says so.
    redis.kill();
    let h = health(&http, &admins[0]).await;
    assert_eq!(h["redis"], "down", "{h}");
    journey(&http, &emu, &urls[1], 5_000).await;
}

#[test]
fn a_fleet_gateway_without_a_key_refuses_to_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_tvpass-gateway"))
        .env_clear()
        .env("TVPASS_BASE_URL", "http://127.0.0.1:9")
        .env("TVPASS_SERVICE_PROVIDER", "REF30")
        .env("TVPASS_SOFTWARE_STATEMENT", DEFAULT_SOFTWARE_STATEMENT)
        .env("GATEWAY_DEVICE_KEY", DEVICE_KEY)
        .env("TVPASS_REDIS_URL", "redis://127.0.0.1:9/0")
        .env("GATEWAY_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fleet_key"), "{err}");
}

/// The endpoint of a request the emulator logged, named as the SDK's metrics name it.
fn endpoint(method: &str, path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (_, ["o", "client", "register"]) => "register",
        (_, ["o", "client", "token"]) => "token",
        (_, ["api", "v2", _, "configuration"]) => "configuration",
        ("POST", ["api", "v2", _, "sessions"]) => "sessions_create",
        ("GET", ["api", "v2", _, "profiles", "code", _]) => "profiles_code",
        ("GET", ["api", "v2", _, "profiles"]) => "profiles",
        ("POST", ["api", "v2", _, "decisions", "authorize", _]) => "authorize",
        ("POST", ["api", "v2", _, "decisions", "preauthorize", _]) => "preauthorize",
        _ => "other",
    }
}

/// `name{labels} value` lines of the Prometheus text, as (labels, value) for one name.
fn series(text: &str, name: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let (metric, labels) = match key.split_once('{') {
                Some((m, rest)) => (m, rest.trim_end_matches('}')),
                None => (key, ""),
            };
            (metric == name).then(|| (labels.to_string(), value.parse().unwrap()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_count_what_adobe_pass_saw() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let gateway = GatewayProcess::start(&emu, &[]);
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for n in 0..20 {
        let token = journey(&http, &emu, &gateway.url, n).await;
        // The token names its device: tvpd1.<device id>.<key id>.<MAC>.
        ids.push(token.split('.').nth(1).unwrap().to_string());
        // Twice the same catalogue: the second answers from the device's Permits.
        for _ in 0..2 {
            let r = http
                .post(format!("{}/v1/preauthorize", gateway.url))
                .bearer_auth(&token)
                .header("x-forwarded-for", ip(n).to_string())
                .json(&serde_json::json!({ "mvpd": MVPD, "resources": ["news", "sports"] }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }
    let text = http
        .get(format!("{}/metrics", gateway.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Requests by endpoint and class, as the emulator logged them.
    let mut logged: BTreeMap<(String, String), f64> = BTreeMap::new();
    for r in emu.requests() {
        let class = format!("{}xx", r.status / 100);
        *logged
            .entry((endpoint(&r.method, &r.path).to_string(), class))
            .or_default() += 1.0;
    }
    let mut counted: BTreeMap<(String, String), f64> = BTreeMap::new();
    for (labels, value) in series(&text, "tvpass_requests_total") {
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap()
        };
        counted.insert((label("endpoint"), label("class")), value);
    }
    assert_eq!(counted, logged, "{text}");
    assert_eq!(logged[&("authorize".into(), "2xx".into())], 20.0);

    // Every call went out once: calls equal requests, and no retry.
    let calls: f64 = series(&text, "tvpass_calls_total")
        .iter()
        .map(|s| s.1)
        .sum();
    assert_eq!(calls, emu.requests().len() as f64);
    assert!(series(&text, "tvpass_retries_total").is_empty());
    // The Permits: 2 resources missed then hit, per device.
    let cache = series(&text, "tvpass_cache_total");
    let permits = |result: &str| {
        cache
            .iter()
            .find(|(l, _)| {
                l.contains("kind=\"permits\"") && l.contains(&format!("result=\"{result}\""))
            })
            .map(|s| s.1)
    };
    assert_eq!(permits("miss"), Some(40.0));
    assert_eq!(permits("hit"), Some(40.0));
    assert_eq!(series(&text, "tvpass_cached_devices")[0].1, 20.0);
    assert_eq!(series(&text, "tvpass_fail_fast_open").len(), 0);
    // No label carries a device id, an address or a user value.
    for secret in ids
        .iter()
        .map(String::as_str)
        .chain(["198.18.", MVPD, "REF30"])
    {
        assert!(!text.contains(secret), "the metrics show {secret}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_gateway_finishes_the_calls_in_flight() {
    let emu = Arc::new(Emulator::start(Default::default()).await.unwrap());
    let mut gateway = GatewayProcess::start(&emu, &[]);
    let http = reqwest::Client::new();
    let token = journey(&http, &emu, &gateway.url, 1).await;
    // The next authorization takes 1.5 s at Adobe Pass.
    emu.inject_fault("/api/v2/", Fault::Delay { ms: 1_500 }, 1);
    let url = gateway.url.clone();
    let call = tokio::spawn({
        let http = http.clone();
        async move {
            http.post(format!("{url}/v1/authorize"))
                .bearer_auth(&token)
                .header("x-forwarded-for", ip(1).to_string())
                .json(&serde_json::json!({ "mvpd": MVPD, "resource": "news" }))
                .send()
                .await
        }
    });
    // The call is in flight once its request reached the emulator (the fault is spent).
    let waited = Instant::now();
    while emu.armed_faults() > 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the call never reached Adobe Pass"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    gateway.terminate();
    let answer = call.await.unwrap().unwrap();
    assert_eq!(answer.status(), 200);
    let decision: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(decision["permit"], true);
    let status = gateway.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(http
        .get(format!("{}/healthz", gateway.admin))
        .send()
        .await
        .is_err());
}
