//! Server-to-server figures of `PassService`: authorize throughput of one instance against bare
//! reqwest at 64-way concurrency, memory per cached device and RSS at 100,000 devices, and (with
//! `--features redis`) Redis round trips per call on a warm path.
//!
//! The emulator runs in a child process (this binary, started again with
//! `TVPASS_BENCH_EMULATOR=1`), so that the memory figures are the service's alone.
//!
//! It also runs a soak: 200 devices on a steady loop (authorize, preauthorize from the cache,
//! profiles from the cache, a logout and a new sign-in now and then) for 5 minutes, RSS sampled
//! every 5 s, with the bytes live on the heap (a counting allocator); after 2 minutes of warm-up
//! RSS may grow at most 5 %, and no call may fail. It writes the samples as CSV and a plot as SVG
//! to `TVPASS_SOAK_OUT` (default `target/soak`).
//!
//! `overhead` is the SDK's own CPU per warm authorize, its transport answering from memory.
//! `TVPASS_BENCH_METRICS=1` measures with a Prometheus recorder installed (the cost of metrics).
//!
//! `cargo bench --bench service [--features redis] [-- NAME...]` with NAME among `throughput`,
//! `overhead`, `handle`, `memory`, `soak`, `redis`. Quick mode soaks for 30 s (10 s of warm-up; it checks the live heap, not RSS), sampling every
//! 2 s. `TVPASS_BENCH_QUICK=1` uses 20,000 devices for memory (RSS at
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

/// The system allocator, counting the bytes live on the heap: the soak tells a leak (live
/// bytes that keep growing) from the allocator keeping freed pages (RSS alone).
struct Counting;

static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only a counter is added.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        std::alloc::System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        std::alloc::System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(
            new as isize - layout.size() as isize,
            std::sync::atomic::Ordering::Relaxed,
        );
        std::alloc::System.realloc(ptr, layout, new)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_mib() -> f64 {
    LIVE.load(std::sync::atomic::Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

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
        .fleet_key("q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=")
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

/// A device's steady loop in the soak: each round a handle from its request, an authorize with
/// a media token, a preauthorize and the profiles (both from its cache), every 20th round a
/// logout and a new sign-in. Returns the calls made and the calls that failed.
async fn soak_device(svc: PassService, base: String, n: u32, until: Instant) -> (u64, u64) {
    let http = reqwest::Client::new();
    let (mut calls, mut failed) = (0u64, 0u64);
    let mut round = 0u32;
    while Instant::now() < until {
        let c = svc.device(device(n)).unwrap();
        let authorized = c.authorize(MVPD, "news").await.is_ok_and(|d| d.is_permit());
        let preauthorized = c
            .preauthorize(MVPD, &["news", "sports"])
            .await
            .is_ok_and(|d| d.iter().all(|d| d.is_permit()));
        let profiles = c.profiles().await.is_ok_and(|p| p.len() == 1);
        calls += 3;
        failed += u64::from(!authorized) + u64::from(!preauthorized) + u64::from(!profiles);
        round += 1;
        if round == 20 {
            round = 0;
            calls += 3;
            let relogged = async {
                c.logout(MVPD).await.ok()?;
                let s = c.create_session(MVPD).await.ok()?;
                let code = s.code?;
                http.post(format!("{base}/__emulator/sessions/{code}/complete"))
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .ok()?
                    .error_for_status()
                    .ok()?;
                c.profile_for_code(&code).await.ok()?
            };
            failed += u64::from(relogged.await.is_none());
        }
        drop(c);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    (calls, failed)
}

/// Draws the RSS samples (seconds, MiB) as an SVG line, the warm-up shaded.
fn soak_svg(samples: &[(f64, f64, f64)], warm_up: f64, limit: f64, devices: u32) -> String {
    let (w, h, pad) = (640.0, 320.0, 56.0);
    let t_max = samples.last().map_or(1.0, |s| s.0).max(1.0);
    let y_max = samples.iter().map(|s| s.1).fold(limit, f64::max).max(1.0) * 1.15;
    let x = |t: f64| pad + t / t_max * (w - 2.0 * pad);
    let y = |m: f64| h - pad - m / y_max * (h - 2.0 * pad);
    let points: Vec<String> = samples
        .iter()
        .map(|(t, m, _)| format!("{:.1},{:.1}", x(*t), y(*m)))
        .collect();
    let live: Vec<String> = samples
        .iter()
        .map(|(t, _, l)| format!("{:.1},{:.1}", x(*t), y(*l)))
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>
<rect x="{pad}" y="{pad}" width="{warm_w:.1}" height="{plot_h:.1}" fill="#eeeeee"/>
<text x="{warm_x:.1}" y="{top_text:.1}" text-anchor="middle" fill="#666">warm-up</text>
<line x1="{pad}" y1="{limit_y:.1}" x2="{right:.1}" y2="{limit_y:.1}" stroke="#c33" stroke-dasharray="4 4"/>
<text x="{right:.1}" y="{limit_text:.1}" text-anchor="end" fill="#c33">+5 % of the RSS after warm-up</text>
<polyline points="{points}" fill="none" stroke="#2a6fdb" stroke-width="2"/>
<polyline points="{live}" fill="none" stroke="#2a9d4b" stroke-width="2"/>
<text x="{right:.1}" y="{rss_text:.1}" text-anchor="end" fill="#2a6fdb">RSS</text>
<text x="{right:.1}" y="{live_text:.1}" text-anchor="end" fill="#2a9d4b">live heap</text>
<line x1="{pad}" y1="{bottom:.1}" x2="{right:.1}" y2="{bottom:.1}" stroke="black"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{bottom:.1}" stroke="black"/>
<text x="{pad}" y="{axis_x:.1}">0</text>
<text x="{right:.1}" y="{axis_x:.1}" text-anchor="end">{t_max:.0} s</text>
<text x="{mid_x:.1}" y="{axis_x:.1}" text-anchor="middle">time, {devices} devices on a steady loop</text>
<text x="{left_text:.1}" y="{bottom:.1}" text-anchor="end">0</text>
<text x="{left_text:.1}" y="{top_y:.1}" text-anchor="end">{y_max:.0}</text>
<text x="18" y="{mid_y:.1}" text-anchor="middle" transform="rotate(-90 18 {mid_y:.1})">RSS, MiB</text>
</svg>
"##,
        warm_w = x(warm_up) - pad,
        plot_h = h - 2.0 * pad,
        warm_x = (pad + x(warm_up)) / 2.0,
        top_text = pad + 16.0,
        limit_y = y(limit),
        limit_text = y(limit) - 6.0,
        right = w - pad,
        bottom = h - pad,
        mid_x = w / 2.0,
        axis_x = h - pad + 20.0,
        left_text = pad - 6.0,
        top_y = y(y_max) + 4.0,
        mid_y = h / 2.0,
        points = points.join(" "),
        live = live.join(" "),
        rss_text = samples.last().map_or(0.0, |s| y(s.1)) + 16.0,
        live_text = samples.last().map_or(0.0, |s| y(s.2)) - 6.0,
    )
}

async fn soak(scale: Scale, missed: &mut Vec<String>) {
    let emu = EmulatorProcess::start();
    let devices = 200u32;
    // The warm-up covers the first recycling of the connection pool (30 s) and the allocator
    // settling into its arenas.
    let (length, every, warm_up) = match scale {
        Scale::Full => (Duration::from_secs(300), Duration::from_secs(5), 120.0),
        Scale::Quick => (Duration::from_secs(30), Duration::from_secs(2), 10.0),
        Scale::Smoke => (Duration::from_secs(3), Duration::from_secs(1), 1.0),
    };
    let svc = service(&emu.base).build().unwrap();
    login_all(&svc, &emu.base, 0..devices).await;
    let started = Instant::now();
    let until = started + length;
    let loops: Vec<_> = (0..devices)
        .map(|n| tokio::spawn(soak_device(svc.clone(), emu.base.clone(), n, until)))
        .collect();
    let mut samples = Vec::new();
    while Instant::now() < until {
        tokio::time::sleep(every).await;
        samples.push((
            started.elapsed().as_secs_f64(),
            rss_kib() as f64 / 1024.0,
            live_mib(),
        ));
    }
    let (mut calls, mut failed) = (0, 0);
    for l in loops {
        let (c, f) = l.await.unwrap();
        calls += c;
        failed += f;
    }
    let after: Vec<&(f64, f64, f64)> = samples.iter().filter(|s| s.0 >= warm_up).collect();
    let baseline = after.first().map_or(0.0, |s| s.1);
    let peak = after.iter().map(|s| s.1).fold(baseline, f64::max);
    let end = after.last().map_or(baseline, |s| s.1);
    let growth = (peak - baseline) / baseline.max(f64::MIN_POSITIVE) * 100.0;
    let live = (
        after.first().map_or(0.0, |s| s.2),
        after.last().map_or(0.0, |s| s.2),
    );
    println!(
        "soak: {devices} devices for {:.0} s, {calls} calls, {failed} failed; RSS after {warm_up:.0} s of warm-up {baseline:.1} MiB, peak {peak:.1} MiB, end {end:.1} MiB: growth {growth:.1} % (target: <= 5 %, no failed call); live heap {:.2} MiB then {:.2} MiB",
        length.as_secs_f64(),
        live.0,
        live.1
    );
    let out = std::env::var("TVPASS_SOAK_OUT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/soak").to_string());
    let out = std::path::Path::new(&out);
    if std::fs::create_dir_all(out).is_ok() {
        let csv: String = std::iter::once("seconds,rss_mib,live_heap_mib\n".to_string())
            .chain(
                samples
                    .iter()
                    .map(|(t, m, l)| format!("{t:.0},{m:.1},{l:.2}\n")),
            )
            .collect();
        let _ = std::fs::write(out.join("soak.csv"), csv);
        let svg = soak_svg(&samples, warm_up, baseline * 1.05, devices);
        let _ = std::fs::write(out.join("soak.svg"), svg);
        println!("soak: samples and plot in {}", out.display());
    }
    // The quick soak's 30 s cannot hold the first renewal of the connection pool (30 s) and the
    // allocator's settling, and on a loaded machine its RSS creeps while the arenas settle (6.8 %
    // seen with a CPU-bound process beside it, the live heap falling from 18.3 to 11.4 MiB). It
    // checks for a leak by the bytes live on the heap instead: at the end no more than the
    // warm-up's highest, plus 5 %. The full soak holds RSS to its target.
    let warm_live = samples
        .iter()
        .filter(|s| s.0 < warm_up)
        .map(|s| s.2)
        .fold(live.0, f64::max);
    let held = match scale {
        Scale::Full => growth <= 5.0,
        Scale::Quick => live.1 <= warm_live * 1.05,
        Scale::Smoke => true,
    };
    if scale == Scale::Quick {
        println!(
            "soak: live heap at the end {:.2} MiB, the warm-up's highest {warm_live:.2} MiB (quick-mode target: <= 5 % over it)",
            live.1
        );
    }
    if failed > 0 || !held {
        missed.push(format!(
            "soak: RSS growth {growth:.1} % (full: <= 5), live heap {:.2} MiB at the end vs {warm_live:.2} (quick: <= 5 % over), {failed} failed calls",
            live.1
        ));
    }
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
    // With TVPASS_BENCH_METRICS=1 every figure is measured with the SDK's metrics recorded, as
    // an operator's Prometheus recorder records them (compare the throughput with and without).
    let metrics = std::env::var("TVPASS_BENCH_METRICS").is_ok_and(|v| v == "1");
    let recorder = metrics.then(|| {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .unwrap()
    });
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
        if wanted("overhead") {
            overhead(scale).await;
        }
        if wanted("handle") {
            handle(scale).await;
        }
        if wanted("soak") {
            soak(scale, &mut missed).await;
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
    if let Some(handle) = recorder {
        let text = handle.render();
        let requests = text
            .lines()
            .filter(|l| l.starts_with("tvpass_requests_total"))
            .count();
        println!("metrics recorded: {requests} series of tvpass_requests_total");
    }
    if missed.is_empty() {
        println!("all checked targets hold");
    } else {
        println!("missed targets: {}", missed.join("; "));
        if scale != Scale::Full {
            std::process::exit(1);
        }
    }
}

/// Replays the emulator's last answer per path once switched: the SDK's own cost of a call,
/// with no network and no server in the measure.
struct Replay {
    real: tvpass::ReqwestTransport,
    replaying: std::sync::atomic::AtomicBool,
    answers: std::sync::Mutex<std::collections::HashMap<String, tvpass::HttpResponse>>,
}

impl tvpass::HttpTransport for Replay {
    fn send(&self, request: tvpass::HttpRequest) -> tvpass::http::SendFuture<'_> {
        let path = request.url.path().to_string();
        if self.replaying.load(std::sync::atomic::Ordering::Relaxed) {
            let answer = self.answers.lock().unwrap().get(&path).cloned();
            return Box::pin(async move {
                answer.ok_or(tvpass::TransportError::Other("no recorded answer".into()))
            });
        }
        Box::pin(async move {
            let r = self.real.send(request).await;
            if let Ok(a) = &r {
                self.answers.lock().unwrap().insert(path, a.clone());
            }
            r
        })
    }
}

/// The SDK's CPU per warm authorize of a service's device, its transport answering from
/// memory: the cost of the pipeline, the client and the service around one request.
async fn overhead(scale: Scale) {
    let emu = EmulatorProcess::start();
    let replay = Arc::new(Replay {
        real: tvpass::ReqwestTransport::new().unwrap(),
        replaying: false.into(),
        answers: Default::default(),
    });
    let svc = service(&emu.base)
        .http_transport(replay.clone())
        .build()
        .unwrap();
    login_all(&svc, &emu.base, 0..1).await;
    let d = svc.device(device(0)).unwrap();
    assert!(d.authorize(MVPD, "news").await.unwrap().is_permit());
    drop(d);
    replay
        .replaying
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let calls: u32 = scale.pick(200_000, 100_000, 1_000);
    let mut runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        for _ in 0..calls {
            let d = svc.device(device(0)).unwrap();
            let decision = d.authorize(MVPD, "news").await.unwrap();
            assert!(decision.is_permit());
        }
        runs.push(started.elapsed().as_nanos() as f64 / f64::from(calls));
    }
    println!(
        "overhead: a warm authorize of a service's device, answered from memory: {:.0} ns per call (the median of 5 runs of {calls}; {:.0} to {:.0})",
        median(runs.clone()),
        runs.iter().cloned().fold(f64::INFINITY, f64::min),
        runs.iter().cloned().fold(0.0, f64::max),
    );
}
