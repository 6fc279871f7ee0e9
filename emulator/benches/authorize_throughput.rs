//! Authorize requests per second the emulator serves with throttling off.
//!
//! `cargo bench -p tvpass-emulator --bench authorize_throughput` (set `BENCH_SECONDS` to change
//! the measuring time, default 5). Prints one line with the figure.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass_emulator::{Emulator, EmulatorConfig, DEFAULT_SOFTWARE_STATEMENT};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    config.request_log_capacity = 10_000;
    let emu = Emulator::start(config).await.expect("start");
    let base = emu.base_url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let info =
        STANDARD.encode(json!({"primaryHardwareType": "SetTopBox", "model": "TV"}).to_string());
    let reg: Value = http
        .post(format!("{base}/o/client/register"))
        .header("content-type", "application/json")
        .header("x-device-info", &info)
        .body(json!({"software_statement": DEFAULT_SOFTWARE_STATEMENT}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok: Value = http
        .post(format!("{base}/o/client/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-device-info", &info)
        .body(format!(
            "client_id={}&client_secret={}&grant_type=client_credentials",
            reg["client_id"].as_str().unwrap(),
            reg["client_secret"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().unwrap().to_string();
    let device = format!("fingerprint {}", STANDARD.encode("bench-device"));
    let s: Value = http
        .post(format!("{base}/api/v2/REF30/sessions"))
        .bearer_auth(&token)
        .header("ap-device-identifier", &device)
        .header("x-device-info", &info)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("mvpd=Cablevision&domainName=adobe.com&redirectUrl=https%3A%2F%2Fadobe.com")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    emu.complete_authentication(s["code"].as_str().unwrap(), Default::default())
        .unwrap();

    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = format!("{base}/api/v2/REF30/decisions/authorize/Cablevision");
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (http, url, token, device, info, done, failed) = (
            http.clone(),
            url.clone(),
            token.clone(),
            device.clone(),
            info.clone(),
            done.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("ap-device-identifier", &device)
                    .header("x-device-info", &info)
                    .header("content-type", "application/json")
                    .body(r#"{"resources":["news"]}"#)
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "emulator authorize throughput: {:.0} requests/s ({} ok, {} failed, {:.1} s, 32 concurrent connections, client and server on {} cores)",
        n as f64 / secs,
        n,
        failed.load(Ordering::Relaxed),
        secs,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
}
