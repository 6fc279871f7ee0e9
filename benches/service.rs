//! Server-to-server figures of `PassService`: authorize throughput of one instance against bare
//! reqwest at 64-way concurrency, memory per cached device and RSS at 100,000 devices, and (with
//! `--features redis`) Redis round trips per call on a warm path.
//!
//! The emulator runs in a child process (this binary, started again with
//! `TVPASS_BENCH_EMULATOR=1`), so that the memory figures are the service's alone.
//!
//! `cargo bench --bench service [--features redis] [-- NAME...]` with NAME among `throughput`,
//! `handle`, `memory`, `redis`. `TVPASS_BENCH_QUICK=1` uses 20,000 devices for memory (RSS at
//! 100,000 extrapolated) and fewer calls, and exits non-zero when the memory or round-trip target
//! is missed (throughput ratios are printed, not enforced: they depend on the machine's load).
//! Under `cargo test` every figure runs once at a small scale in the unoptimized build.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass::{DeviceContext, DeviceInfo, Environment, PassService, RateLimit};
use tvpass_emulator::{Emulator, EmulatorConfig, DEFAULT_SOFTWARE_STATEMENT};

const SP: &str = "REF30";
const MVPD: &str = "Cablevision";
const CONCURRENCY: usize = 64;

/// How much to measure: `Full` (`cargo bench`), `Quick` (`TVPASS_BENCH_QUICK=1`: fewer devices
/// and calls, targets enforced) or `Smoke` (`cargo test`: an unoptimized build, every path run
/// once at a small scale, nothing enforced).
#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Full,
    Quick,
    Smoke,
}

impl Scale {
    fn pick<T>(self, full: T, quick: T, smoke: T) -> T {
        match self {
            Scale::Full => full,
            Scale::Quick => quick,
            Scale::Smoke => smoke,
        }
    }
}

/// The emulator in a child process.
struct EmulatorProcess {
    child: Child,
    base: String,
}

impl EmulatorProcess {
    fn start() -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("TVPASS_BENCH_EMULATOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        EmulatorProcess {
            child,
            base: line.trim().to_string(),
        }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The child: serves until its stdin closes.
fn serve_emulator() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let emu = Emulator::start(EmulatorConfig {
            throttling: tvpass_emulator::ThrottlingConfig {
                enabled: false,
                ..Default::default()
            },
            request_log_capacity: 16,
            ..Default::default()
        })
        .await
        .unwrap();
        println!("{}", emu.base_url());
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .unwrap();
    });
}

fn service(base: &str) -> tvpass::PassServiceBuilder {
    PassService::builder()
        .environment(Environment::Custom(base.into()))
        .service_provider(SP)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        // The emulator's throttling is off: these figures are the SDK's own cost.
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
}

fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 0)) + n))
}

fn info() -> DeviceInfo {
    DeviceInfo {
        primary_hardware_type: Some("SetTopBox".into()),
        os_name: Some("Roku OS".into()),
        ..Default::default()
    }
}

fn device(n: u32) -> DeviceContext {
    DeviceContext::new(format!("device-{n:08}"), ip(n))
        .port(50_000)
        .device_info(info())
}

/// Logs devices `range` in through `svc` (64 at a time): session, completion, profile.
async fn login_all(svc: &PassService, base: &str, range: std::ops::Range<u32>) {
    let http = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicU32::new(range.start));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (svc, http, next, base) = (svc.clone(), http.clone(), next.clone(), base.to_string());
        let end = range.end;
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= end {
                    break;
                }
                let c = svc.device(device(n)).unwrap();
                let s = c.create_session(MVPD).await.unwrap();
                let code = s.code.unwrap();
                http.post(format!("{base}/__emulator/sessions/{code}/complete"))
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap()
                    .error_for_status()
                    .unwrap();
                assert!(c.profile_for_code(&code).await.unwrap().is_some());
                let pre = c.preauthorize(MVPD, &["news", "sports"]).await.unwrap();
                assert_eq!(pre.len(), 2);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Registers and fetches a token by hand, for the bare requests.
async fn bare_token(http: &reqwest::Client, base: &str) -> String {
    let reg: serde_json::Value = http
        .post(format!("{base}/o/client/register"))
        .header(
            "x-device-info",
            STANDARD.encode(serde_json::to_vec(&info()).unwrap()),
        )
        .json(&serde_json::json!({ "software_statement": DEFAULT_SOFTWARE_STATEMENT }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok: serde_json::Value = http
        .post(format!("{base}/o/client/token"))
        .header(
            "x-device-info",
            STANDARD.encode(serde_json::to_vec(&info()).unwrap()),
        )
        .form(&[
            ("client_id", reg["client_id"].as_str().unwrap()),
            ("client_secret", reg["client_secret"].as_str().unwrap()),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!("Bearer {}", tok["access_token"].as_str().unwrap())
}

/// `calls` authorize calls spread over `devices` by 64 workers; calls per second.
async fn sdk_round(svc: &PassService, devices: u32, calls: u32) -> f64 {
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (svc, next) = (svc.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                // A gateway builds the handle from each incoming request.
                let c = svc.device(device(i % devices)).unwrap();
                let d = c.authorize(MVPD, "news").await.unwrap();
                assert!(d.is_permit());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    f64::from(calls) / started.elapsed().as_secs_f64()
}

/// The same requests by hand: one shared reqwest client, the same headers and body.
async fn bare_round(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    devices: u32,
    calls: u32,
) -> f64 {
    let url = Arc::new(format!("{base}/api/v2/{SP}/decisions/authorize/{MVPD}"));
    let mut info = info();
    info.connection_port = Some(50_000);
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, next, url, token, info) = (
            http.clone(),
            next.clone(),
            url.clone(),
            token.to_string(),
            info.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                let n = i % devices;
                let mut info = info.clone();
                info.connection_ip = Some(ip(n).to_string());
                let v: serde_json::Value = http
                    .post(url.as_str())
                    .timeout(Duration::from_secs(10))
                    .header("authorization", &token)
                    .header(
                        "ap-device-identifier",
                        format!("fingerprint {}", STANDARD.encode(format!("device-{n:08}"))),
                    )
                    .header(
                        "x-device-info",
                        STANDARD.encode(serde_json::to_vec(&info).unwrap()),
                    )
                    .header("x-forwarded-for", ip(n).to_string())
                    .header("accept", "application/json")
                    .header("content-type", "application/json")
                    .body(r#"{"resources":["news"]}"#)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(v["decisions"][0]["authorized"], true, "{v}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    f64::from(calls) / started.elapsed().as_secs_f64()
}

/// CPU time this process has used (user + system), in microseconds.
fn cpu_us() -> f64 {
    // /proc/self/stat fields 14 and 15: utime and stime in clock ticks (100 per second here).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks * 10_000.0)
        })
        .unwrap_or(0.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn throughput(scale: Scale) {
    let emu = EmulatorProcess::start();
    let svc = service(&emu.base).build().unwrap();
    let devices = scale.pick(1000, 1000, 100);
    login_all(&svc, &emu.base, 0..devices).await;
    let http = reqwest::Client::new();
    let token = bare_token(&http, &emu.base).await;
    let calls = scale.pick(5_000, 5_000, 500);
    // Warm both, then short rounds in pairs, the order alternating: the ratio of each pair is
    // measured under the same conditions, and the median of the pairs is reported.
    sdk_round(&svc, devices, 2_000).await;
    bare_round(&http, &emu.base, &token, devices, 2_000).await;
    let pairs: u32 = scale.pick(21, 7, 1);
    let (mut ratios, mut sdk, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sdk_cpu, mut bare_cpu) = (0.0, 0.0);
    for pair in 0..pairs {
        let (mut s, mut b) = (0.0, 0.0);
        for sdk_turn in [pair % 2 == 0, pair % 2 == 1] {
            let c = cpu_us();
            if sdk_turn {
                s = sdk_round(&svc, devices, calls).await;
                sdk_cpu += cpu_us() - c;
            } else {
                b = bare_round(&http, &emu.base, &token, devices, calls).await;
                bare_cpu += cpu_us() - c;
            }
        }
        ratios.push(s / b);
        sdk.push(s);
        bare.push(b);
    }
    let per = f64::from(calls) * f64::from(pairs);
    println!(
        "throughput: {:.0} authorize/s through one PassService vs {:.0}/s with bare reqwest (medians), 64-way, {devices} devices, {pairs} pairs of {calls} calls: ratio {:.3}, the median of the pairs (target >= 0.90); client CPU per call {:.1} µs vs {:.1} µs",
        median(sdk),
        median(bare),
        median(ratios),
        sdk_cpu / per,
        bare_cpu / per
    );
}

/// The cost of a device handle: `service.device(context)` and its drop, for a device whose
/// state is cached (nothing is sent).
async fn handle(scale: Scale) {
    let emu = EmulatorProcess::start();
    let svc = service(&emu.base).build().unwrap();
    login_all(&svc, &emu.base, 0..1000).await;
    let n: u32 = scale.pick(1_000_000, 100_000, 10_000);
    let mut runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        for i in 0..n {
            drop(svc.device(device(i % 1000)).unwrap());
        }
        runs.push(started.elapsed().as_secs_f64() * 1e9 / f64::from(n));
    }
    println!(
        "handle: service.device(context) and its drop in {:.0} ns, the median of 5 runs of {n} (the context built each time, as from a request)",
        median(runs)
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

async fn memory(scale: Scale, missed: &mut Vec<String>) {
    let emu = EmulatorProcess::start();
    let devices: u32 = scale.pick(100_000, 20_000, 1_000);
    let svc = service(&emu.base).max_devices(100_000).build().unwrap();
    // The pool, the runtime and the first allocations before counting.
    login_all(&svc, &emu.base, 0..CONCURRENCY as u32).await;
    let before = rss_kib();
    login_all(&svc, &emu.base, CONCURRENCY as u32..devices).await;
    let after = rss_kib();
    let cached = svc.cached_devices();
    let per_device = (after.saturating_sub(before) * 1024) as f64 / f64::from(devices);
    println!(
        "memory: {cached} devices cached (a profile and 2 Permits each): RSS {:.1} MiB, {per_device:.0} bytes per device by RSS, {} bytes per device as the cache estimates (target: RSS <= 64 MiB at 100,000 devices)",
        after as f64 / 1024.0,
        svc.cached_bytes() / cached.max(1)
    );
    let at_100k = before as f64 / 1024.0 + per_device * 100_000.0 / (1024.0 * 1024.0);
    if scale != Scale::Full {
        println!("memory: RSS at 100,000 devices by extrapolation: {at_100k:.1} MiB");
    }
    if (scale != Scale::Smoke && at_100k > 64.0) || cached != devices as usize {
        missed.push(format!(
            "RSS at 100,000 devices {at_100k:.1} MiB (<= 64), {cached} cached"
        ));
    }
}

#[cfg(feature = "redis")]
async fn redis_round_trips(missed: &mut Vec<String>) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let emu = EmulatorProcess::start();
    let svc = service(&emu.base)
        .rate_limit(RateLimit::default())
        .redis(format!("redis://127.0.0.1:{port}/0"))
        .build()
        .unwrap();
    login_all(&svc, &emu.base, 0..100).await;
    let calls = 1000u32;
    let trips = svc.redis_round_trips();
    for i in 0..calls {
        svc.device(device(i % 100))
            .unwrap()
            .authorize(MVPD, "news")
            .await
            .unwrap();
        // Keep each device within its pace: 10 calls per device over the run.
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(1000)).await;
        }
    }
    let per_authorize = (svc.redis_round_trips() - trips) as f64 / f64::from(calls);
    let trips = svc.redis_round_trips();
    for i in 0..calls {
        svc.device(device(i % 100))
            .unwrap()
            .preauthorize(MVPD, &["news"])
            .await
            .unwrap();
    }
    let per_preauthorize = (svc.redis_round_trips() - trips) as f64 / f64::from(calls);
    println!(
        "redis: {per_authorize:.2} round trips per warm authorize (the pace), {per_preauthorize:.2} per preauthorize answered from the fleet's Permits (target <= 1)"
    );
    if per_authorize > 1.0 || per_preauthorize > 1.0 {
        missed.push(format!(
            "Redis round trips per call {per_authorize:.2} (<= 1)"
        ));
    }
    let _ = redis.kill();
    let _ = redis.wait();
}

fn main() {
    if std::env::var_os("TVPASS_BENCH_EMULATOR").is_some() {
        serve_emulator();
        return;
    }
    // Under `cargo test` (no `--bench` argument): a smoke run.
    let scale = if !std::env::args().any(|a| a == "--bench") {
        Scale::Smoke
    } else if std::env::var("TVPASS_BENCH_QUICK").is_ok_and(|v| v != "0") {
        Scale::Quick
    } else {
        Scale::Full
    };
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut missed = Vec::new();
    rt.block_on(async {
        if wanted("memory") {
            memory(scale, &mut missed).await;
        }
        if wanted("throughput") {
            throughput(scale).await;
        }
        if wanted("handle") {
            handle(scale).await;
        }
        #[cfg(feature = "redis")]
        if wanted("redis") {
            redis_round_trips(&mut missed).await;
        }
        #[cfg(not(feature = "redis"))]
        if wanted("redis") && !only.is_empty() {
            println!("redis: run with --features redis");
        }
    });
    if missed.is_empty() {
        println!("all checked targets hold");
    } else {
        println!("missed targets: {}", missed.join("; "));
        if scale != Scale::Full {
            std::process::exit(1);
        }
    }
}
