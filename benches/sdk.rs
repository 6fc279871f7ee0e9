//! The SDK's figures against the in-process emulator (throttling off unless said otherwise):
//! overhead against bare reqwest, requests per journey against the protocol minimum, single
//! flight, a journey under the real throttle, preauthorize fan-out, and peak memory.
//!
//! `cargo bench --bench sdk` prints every figure. `TVPASS_BENCH_QUICK=1` runs fewer iterations
//! and exits non-zero when a request-count, throttling or memory target is missed (timing ratios
//! are printed, not enforced: they depend on the machine's load).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass::{
    DeviceInfo, Environment, MemoryStorage, PassClient, PollObserver, RateLimit, RetryPolicy,
};
use tvpass_emulator::{Emulator, EmulatorConfig, Fault, DEFAULT_SOFTWARE_STATEMENT};

struct Report {
    quick: bool,
    missed: Vec<String>,
}

impl Report {
    fn check(&mut self, ok: bool, what: &str) {
        if !ok {
            self.missed.push(what.to_string());
        }
    }
}

fn builder(emu: &Emulator, pace: bool) -> tvpass::PassClientBuilder {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("SetTopBox".into()),
            ..Default::default()
        })
        .rate_limit(RateLimit {
            enabled: pace,
            ..RateLimit::default()
        })
}

async fn emulator(throttling: bool) -> Emulator {
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = throttling;
    c.request_log_capacity = 20_000;
    Emulator::start(c).await.expect("emulator")
}

async fn login(emu: &Emulator, c: &PassClient) {
    let s = c.create_session("Cablevision").await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    c.await_profile(&s).await.unwrap();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The same authorize request made by hand with reqwest, with a request timeout as any careful
/// client sets one.
#[inline(never)]
async fn bare_authorize(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    device: &str,
    info: &str,
) -> serde_json::Value {
    http.post(url)
        .timeout(Duration::from_secs(10))
        .header("authorization", token)
        .header("ap-device-identifier", device)
        .header("x-device-info", info)
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(r#"{"resources":["news"]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn overhead(r: &mut Report) {
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    config.request_log_capacity = 100;
    let emu = Emulator::start(config).await.unwrap();
    let c = builder(&emu, false).build().unwrap();
    login(&emu, &c).await;
    // The same request by hand: token, device headers, JSON body, JSON answer decoded.
    let storage_token = {
        let _ = c.authorize("Cablevision", "news").await.unwrap();
        emu.requests()
            .last()
            .unwrap()
            .header("authorization")
            .unwrap()
            .to_string()
    };
    let http = reqwest::Client::new();
    let url = format!(
        "{}/api/v2/REF30/decisions/authorize/Cablevision",
        emu.base_url()
    );
    let device = format!("fingerprint {}", STANDARD.encode(c.device_id().expose()));
    let info = DeviceInfo {
        primary_hardware_type: Some("SetTopBox".into()),
        ..Default::default()
    }
    .header_value();
    let n = if r.quick { 300 } else { 2000 };
    let (mut sdk, mut bare) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // TVPASS_OVERHEAD_ONLY=sdk|bare runs one side only (for instruction counts under callgrind).
    let only = std::env::var("TVPASS_OVERHEAD_ONLY").unwrap_or_default();
    for i in 0..n * 2 {
        if (only == "sdk" && i % 2 == 1) || (only == "bare" && i % 2 == 0) {
            continue;
        }
        let t = Instant::now();
        if i % 2 == 0 {
            let d = c.authorize("Cablevision", "news").await.unwrap();
            assert!(d.is_permit());
            sdk.push(t.elapsed());
        } else {
            let v = bare_authorize(&http, &url, &storage_token, &device, &info).await;
            assert_eq!(v["decisions"][0]["authorized"], true);
            bare.push(t.elapsed());
        }
    }
    if !only.is_empty() {
        let v = if only == "sdk" { sdk } else { bare };
        let first = median(v[..v.len() / 4].to_vec());
        let last = median(v[v.len() * 3 / 4..].to_vec());
        println!(
            "overhead ({only} only): median {:.0} us (first quarter {:.0} us, last quarter {:.0} us)",
            median(v).as_secs_f64() * 1e6,
            first.as_secs_f64() * 1e6,
            last.as_secs_f64() * 1e6
        );
        return;
    }
    let (s, b) = (median(sdk), median(bare));
    println!(
        "overhead: authorize median {:.0} us through the SDK vs {:.0} us with bare reqwest: ratio {:.3} (target <= 1.10; {n} calls each, interleaved)",
        s.as_secs_f64() * 1e6,
        b.as_secs_f64() * 1e6,
        s.as_secs_f64() / b.as_secs_f64()
    );
}

struct CompleteAfter {
    emu: Arc<Emulator>,
    code: String,
    after: u32,
    polls: AtomicU32,
}

impl PollObserver for CompleteAfter {
    fn on_poll(&self, polls: u32) {
        self.polls.store(polls, Ordering::SeqCst);
        if polls == self.after {
            self.emu
                .complete_authentication(&self.code, Default::default())
                .unwrap();
        }
    }
}

async fn requests_per_journey(r: &mut Report) {
    let emu = Arc::new(emulator(false).await);
    let storage = Arc::new(MemoryStorage::new());
    let c = builder(&emu, true)
        .storage(storage.clone())
        .build()
        .unwrap();
    let polls_before_login = 2u32;
    let catalogue: Vec<String> = (0..20)
        .map(|i| ["news", "sports", "movies", "kids"][i % 4].to_string() + &i.to_string())
        .collect();
    let refs: Vec<&str> = catalogue.iter().map(String::as_str).collect();

    let config = c.configuration().await.unwrap();
    c.select_mvpd(config.mvpd("Cablevision").unwrap());
    let s = c.create_session("Cablevision").await.unwrap();
    let observer = CompleteAfter {
        emu: emu.clone(),
        code: s.code.clone().unwrap(),
        after: polls_before_login,
        polls: AtomicU32::new(0),
    };
    c.await_profile_with(&s, Some(&observer)).await.unwrap();
    let _ = c.profiles().await.unwrap();
    c.preauthorize("Cablevision", &refs).await.unwrap();
    c.authorize("Cablevision", "news").await.unwrap();
    let cold = emu.requests().len();
    // register, token, configuration, session, polls (N empty + 1 with the profile),
    // preauthorize ceil(20/5), authorize.
    let cold_min = 4 + (polls_before_login as usize + 1) + 20usize.div_ceil(5) + 1;
    println!("requests per journey: cold TV login {cold} sent, protocol minimum {cold_min} (login completes after {polls_before_login} empty polls)");
    r.check(
        cold == cold_min,
        "cold journey uses the minimum of requests",
    );

    emu.clear_requests();
    let warm = builder(&emu, true).storage(storage).build().unwrap();
    assert!(warm
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());
    let warm_count = emu.requests().len();
    println!(
        "requests per journey: warm restart then authorize {warm_count} sent, protocol minimum 1"
    );
    r.check(warm_count == 1, "warm restart = 1 request");
}

async fn single_flight(r: &mut Report) {
    let emu = emulator(false).await;
    let c = builder(&emu, false).build().unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.configuration().await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let (reg, tok) = (
        emu.count("/o/client/register"),
        emu.count("/o/client/token"),
    );
    println!("single flight: 100 concurrent cold calls sent {reg} register and {tok} token requests (target 1 and 1)");
    r.check(reg == 1 && tok == 1, "single flight");
}

async fn throttled(r: &mut Report) {
    // A simulated 10-minute session under the real limits: browsing pages of the catalogue
    // (preauthorize 5 new titles every 2 minutes) and playback (authorize every 30 s), the
    // emulator's clock moving with the simulated time.
    let emu = emulator(true).await;
    let c = builder(&emu, true).build().unwrap();
    let started = Instant::now();
    c.configuration().await.unwrap();
    login(&emu, &c).await;
    for step in 0..20u32 {
        if step % 4 == 0 {
            let page: Vec<String> = (0..5).map(|i| format!("title-{step}-{i}")).collect();
            let refs: Vec<&str> = page.iter().map(String::as_str).collect();
            c.preauthorize("Cablevision", &refs).await.unwrap();
        }
        c.authorize("Cablevision", "news").await.unwrap();
        emu.advance(Duration::from_secs(30));
    }
    let sent = emu.requests().len();
    let throttled = emu.requests().iter().filter(|q| q.status == 429).count();
    println!(
        "throttled journey: 10 simulated minutes, {sent} requests, {throttled} answered 429 (target 0), {:.1} s wall time",
        started.elapsed().as_secs_f64()
    );
    r.check(throttled == 0, "no 429 in the simulated session");

    // Back-to-back playback requests in real time: the SDK paces itself to the limit.
    let emu = emulator(true).await;
    let c = builder(&emu, true).build().unwrap();
    login(&emu, &c).await;
    let n = if r.quick { 16 } else { 40 };
    let t = Instant::now();
    for _ in 0..n {
        c.authorize("Cablevision", "news").await.unwrap();
    }
    let throttled = emu.requests().iter().filter(|q| q.status == 429).count();
    println!(
        "throttled burst: {} requests back to back in real time, {throttled} answered 429 (target 0), paced over {:.1} s",
        emu.requests().len(),
        t.elapsed().as_secs_f64()
    );
    r.check(throttled == 0, "no 429 when calls come back to back");
}

async fn preauthorize_fanout(r: &mut Report) {
    let emu = emulator(false).await;
    let c = builder(&emu, false)
        .preauthorize_concurrency(4)
        .build()
        .unwrap();
    login(&emu, &c).await;
    // A network-like 40 ms per preauthorize answer, so that the figure measures the fan-out.
    emu.inject_fault(
        "/api/v2/REF30/decisions/preauthorize",
        Fault::Delay { ms: 40 },
        100_000,
    );
    let rounds = if r.quick { 3 } else { 10 };
    let (mut one, mut fifty) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let batch: Vec<String> = (0..5).map(|i| format!("one-{round}-{i}")).collect();
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        let t = Instant::now();
        c.preauthorize("Cablevision", &refs).await.unwrap();
        one.push(t.elapsed());
        let many: Vec<String> = (0..50).map(|i| format!("many-{round}-{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let t = Instant::now();
        let ds = c.preauthorize("Cablevision", &refs).await.unwrap();
        assert_eq!(ds.len(), 50);
        fifty.push(t.elapsed());
    }
    let (a, b) = (median(one), median(fifty));
    println!(
        "preauthorize: 50 resources in batches of 5 at concurrency 4 took {:.0} ms vs {:.0} ms for one batch: {:.2}x (target <= 3x; 10 batches need at least 3 rounds of 4)",
        b.as_secs_f64() * 1e3,
        a.as_secs_f64() * 1e3,
        b.as_secs_f64() / a.as_secs_f64()
    );
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn memory(r: &mut Report) {
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = false;
    c.request_log_capacity = 100;
    let emu = Emulator::start(c).await.unwrap();
    let client = builder(&emu, false)
        .retry(RetryPolicy::default())
        .build()
        .unwrap();
    login(&emu, &client).await;
    let n = 10_000;
    for _ in 0..n {
        client.authorize("Cablevision", "news").await.unwrap();
    }
    match peak_rss_kib() {
        Some(kib) => {
            println!(
                "memory: peak RSS {:.1} MiB after {n} authorize calls (the process also runs the emulator; target <= 20 MiB)",
                kib as f64 / 1024.0
            );
            r.check(kib <= 20 * 1024, "peak RSS <= 20 MiB");
        }
        None => println!("memory: peak RSS not available on this system"),
    }
}

fn main() {
    let quick = std::env::var("TVPASS_BENCH_QUICK").is_ok_and(|v| v != "0");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut report = Report {
        quick,
        missed: Vec::new(),
    };
    // `cargo bench --bench sdk -- NAME...` runs only the named figures.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    rt.block_on(async {
        // Memory first, before the other figures grow the heap.
        if wanted("memory") {
            memory(&mut report).await;
        }
        if wanted("overhead") {
            overhead(&mut report).await;
        }
        if wanted("journey") {
            requests_per_journey(&mut report).await;
        }
        if wanted("single-flight") {
            single_flight(&mut report).await;
        }
        if wanted("preauthorize") {
            preauthorize_fanout(&mut report).await;
        }
        if wanted("throttled") {
            throttled(&mut report).await;
        }
    });
    if report.missed.is_empty() {
        println!("all checked targets hold");
    } else {
        println!("missed targets: {}", report.missed.join("; "));
        if quick {
            std::process::exit(1);
        }
    }
}
