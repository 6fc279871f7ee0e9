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

/// nginx as `gateway/nginx.conf` configures it, in front of `upstreams`: the file itself, with
/// only its addresses replaced and what a process of the test needs added (no daemon, its pid,
/// logs and temporary files in a folder of its own). Stopped when dropped.
struct Nginx {
    child: std::process::Child,
    url: String,
    dir: std::path::PathBuf,
}

impl Nginx {
    fn start(upstreams: &[String]) -> Self {
        let conf = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/nginx.conf"))
            .expect("gateway/nginx.conf");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let dir = std::env::temp_dir().join(format!("tvpass-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let mut servers = conf
            .lines()
            .filter(|l| l.trim_start().starts_with("server 127.0.0.1:"))
            .map(str::to_string)
            .collect::<Vec<_>>();
        assert_eq!(
            servers.len(),
            upstreams.len(),
            "nginx.conf names three gateways"
        );
        let mut conf = conf.clone();
        for (line, up) in servers.drain(..).zip(upstreams) {
            let indent = &line[..line.len() - line.trim_start().len()];
            conf = conf.replacen(&line, &format!("{indent}server {};", common::addr(up)), 1);
        }
        assert!(conf.contains("listen 8080;"), "nginx.conf listens on 8080");
        let conf = conf
            .replacen("listen 8080;", &format!("listen 127.0.0.1:{port};"), 1)
            .replacen(
                "http {",
                &format!(
                    "http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;"
                ),
                1,
            );
        let conf = format!("daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n{conf}");
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .spawn()
            .expect("nginx (Debian's nginx-light; scripts/install-deps.sh installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM, not KILL: the master stops its workers before it exits.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One request written by hand from `from` (a loopback address of the test's choice): the
/// status, the body and the port the connection left from.
async fn raw_from(from: Ipv4Addr, url: &str, request: &str) -> (u16, String, u16) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((from, 0).into()).unwrap();
    let mut s = socket
        .connect(common::addr(url).parse().unwrap())
        .await
        .unwrap();
    let port = s.local_addr().unwrap().port();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut answer))
        .await
        .expect("an answer within 30 s")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default(), port)
}

/// The repository's `nginx.conf` in front of three gateway processes and their Redis, as
/// `compose.yaml` runs them: a device's journey goes through, round robin; the address and port
/// Adobe Pass sees are the ones nginx saw, whatever the device wrote; the admin endpoints are
/// not on the devices' side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repositorys_nginx_conf_in_front_of_three_gateways_serves_a_journey() {
    let redis = Redis::start();
    let emu = Emulator::start(Default::default()).await.unwrap();
    let env = [
        ("TVPASS_REDIS_URL", redis.url()),
        ("TVPASS_FLEET_KEY", KEY.to_string()),
        ("TVPASS_FLEET_INSTANCES", "3".to_string()),
        // nginx connects from 127.0.0.1; the device, below, from 127.0.0.7.
        ("GATEWAY_TRUSTED_PROXIES", "127.0.0.1/32".to_string()),
    ];
    let gateways: Vec<GatewayProcess> = (0..3).map(|_| GatewayProcess::start(&emu, &env)).collect();
    let nginx = Nginx::start(&gateways.iter().map(|g| g.url.clone()).collect::<Vec<_>>());
    let device = Ipv4Addr::new(127, 0, 0, 7);
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(device))
        .build()
        .unwrap();

    let r = http
        .post(format!("{}/v1/devices", nginx.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    // The device writes an address, a port and a chain of its own; nginx replaces them.
    let forged = tvpass::DeviceInfo {
        os_name: Some("Roku OS".into()),
        connection_ip: Some("203.0.113.9".into()),
        connection_port: Some(1),
        ..Default::default()
    };
    let body = r#"{"mvpd":"Cablevision"}"#;
    let request = format!(
        "POST /v1/sessions HTTP/1.1\r\nHost: tv.example\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nX-Forwarded-For: 203.0.113.9\r\nForwarded: for=\"203.0.113.9:1\"\r\nX-Device-Info: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        forged.header_value(),
        body.len()
    );
    emu.clear_requests();
    let (status, answer, port) = raw_from(device, &nginx.url, &request).await;
    assert_eq!(status, 200, "{answer}");
    let sent = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sessions"))
        .expect("the session reached Adobe Pass");
    assert_eq!(sent.header("x-forwarded-for"), Some("127.0.0.7"));
    use base64::Engine;
    let info: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(sent.header("x-device-info").expect("X-Device-Info"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info["connectionIp"], "127.0.0.7", "{info}");
    assert_eq!(
        info["connectionPort"], port,
        "the device's own port, from Forwarded: {info}"
    );
    assert_eq!(info["osName"], "Roku OS");

    // The rest of the journey, each call on the next gateway nginx picks.
    let code = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    emu.complete_authentication(&code, Default::default())
        .unwrap();
    for _ in 0..3 {
        let profile = http
            .get(format!("{}/v1/profiles?code={code}", nginx.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            profile.status(),
            200,
            "the code is the device's on every gateway"
        );
    }
    for _ in 0..3 {
        let decision: serde_json::Value = http
            .post(format!("{}/v1/authorize", nginx.url))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "mvpd": MVPD, "resource": "news" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(decision["permit"], true, "{decision}");
    }
    assert!(
        emu.requests()
            .iter()
            .filter_map(|r| r.header("x-forwarded-for"))
            .all(|a| a == "127.0.0.7"),
        "every call reached Adobe Pass from the device's address"
    );
    for path in ["/metrics", "/healthz"] {
        let r = http
            .get(format!("{}{path}", nginx.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path} is not on the devices' side");
    }
}
