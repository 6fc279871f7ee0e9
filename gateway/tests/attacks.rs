//! The gateway as an attacker finds it: the `tvpass-gateway` binary over real sockets on
//! 127.0.0.1, in front of the emulator, played by a caller who forges what a device would not
//! (tokens, addresses, half requests, floods). Each test names the threat of
//! `docs/security.md` it plays. Timings are the wall clock's, with generous margins.

mod common;
#[path = "../../tests/common/redis_server.rs"]
mod redis_server;

use base64::Engine;
use common::{raw, raw_on, GatewayProcess, DEVICE_KEY};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tvpass::DeviceInfo;
use tvpass_emulator::{Emulator, Fault};

const MVPD: &str = "Cablevision";

fn post(path: &str, token: Option<&str>, extra: &str, body: &str) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n{auth}{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn get(path: &str, token: Option<&str>, extra: &str) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n{auth}{extra}\r\n")
}

/// Enrols a device through `gw`: its id and token.
fn enrol(gw: &str) -> (String, String) {
    let (status, body) = raw(gw, &post("/v1/devices", None, "", ""));
    assert_eq!(status, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    (
        v["deviceId"].as_str().unwrap().to_string(),
        v["token"].as_str().unwrap().to_string(),
    )
}

fn upstream(emu: &Emulator) -> usize {
    emu.count("/api/v2/")
}

/// Threat 1: a caller who is not the device. Without a valid token, every call is a 401 and
/// nothing goes to Adobe Pass; `X-Device-Id` names no one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_a_valid_token_gets_401_and_nothing_reaches_adobe_pass() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let gw = GatewayProcess::start(&emu, &[]);
    let (id, token) = enrol(&gw.url);
    let other_key = GatewayProcess::start(
        &emu,
        &[(
            "GATEWAY_DEVICE_KEY",
            "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=".to_string(),
        )],
    );
    let (_, foreign) = enrol(&other_key.url);
    let before = upstream(&emu);
    let parts: Vec<&str> = token.split('.').collect();
    let forged_id = format!("tvpd1.{}0.{}.{}", id, parts[2], parts[3]);
    let bad_mac = format!("{}.{}.{}.{}A", parts[0], parts[1], parts[2], &parts[3][1..]);
    let tokens: [(&str, Option<&str>, &str); 6] = [
        ("none", None, ""),
        ("only X-Device-Id", None, "X-Device-Id: roku-1\r\n"),
        ("malformed", Some("not-a-token"), ""),
        ("another id, the same MAC", Some(&forged_id), ""),
        ("a changed MAC", Some(&bad_mac), ""),
        ("another gateway's key", Some(&foreign), ""),
    ];
    for (what, token, extra) in tokens {
        for request in [
            post("/v1/sessions", token, extra, r#"{"mvpd":"Cablevision"}"#),
            get("/v1/profiles?code=ABC", token, extra),
            post(
                "/v1/preauthorize",
                token,
                extra,
                r#"{"mvpd":"Cablevision","resources":["news"]}"#,
            ),
            post(
                "/v1/authorize",
                token,
                extra,
                r#"{"mvpd":"Cablevision","resource":"news"}"#,
            ),
            post("/v1/logout", token, extra, r#"{"mvpd":"Cablevision"}"#),
        ] {
            let (status, body) = raw(&gw.url, &request);
            assert_eq!(status, 401, "{what}: {request}");
            assert_eq!(body, r#"{"error":"unauthenticated"}"#, "{what}");
        }
    }
    assert_eq!(upstream(&emu), before, "a request reached Adobe Pass");
    // The real token works.
    let (status, _) = raw(
        &gw.url,
        &post(
            "/v1/sessions",
            Some(&token),
            "",
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    assert_eq!(status, 200);
}

/// Threat 1 (codes): a caller who learns a code cannot poll it. Through a fleet, the device
/// that started it polls on any instance; another device gets 404 on every instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_polled_only_by_the_device_that_started_it_on_any_instance() {
    let redis = redis_server::Redis::start();
    let emu = Emulator::start(Default::default()).await.unwrap();
    let env = [
        ("TVPASS_REDIS_URL", redis.url()),
        (
            "TVPASS_FLEET_KEY",
            "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=".to_string(),
        ),
        ("TVPASS_FLEET_INSTANCES", "2".to_string()),
    ];
    let a = GatewayProcess::start(&emu, &env);
    let b = GatewayProcess::start(&emu, &env);
    let (_, owner) = enrol(&a.url);
    let (_, thief) = enrol(&b.url);
    let (status, body) = raw(
        &a.url,
        &post(
            "/v1/sessions",
            Some(&owner),
            "",
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    assert_eq!(status, 200, "{body}");
    let code = serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let poll = |gw: &str, token: &str| {
        raw(
            gw,
            &get(&format!("/v1/profiles?code={code}"), Some(token), ""),
        )
    };
    for gw in [&a.url, &b.url] {
        assert_eq!(
            poll(gw, &thief),
            (404, r#"{"error":"unknown_code"}"#.to_string())
        );
        assert_eq!(poll(gw, &owner).0, 202, "the owner polls on {gw}");
    }
    emu.complete_authentication(&code, Default::default())
        .unwrap();
    assert_eq!(poll(&b.url, &thief).0, 404);
    let (status, body) = poll(&b.url, &owner);
    assert_eq!(status, 200);
    assert!(body.contains(MVPD), "{body}");
    // An unknown code reaches no one.
    let before = upstream(&emu);
    assert_eq!(
        raw(&a.url, &get("/v1/profiles?code=NOPE42", Some(&owner), "")).0,
        404
    );
    assert_eq!(upstream(&emu), before);
}

fn device_info(ip: &str, port: u16) -> String {
    let info = DeviceInfo {
        os_name: Some("Roku OS".into()),
        connection_ip: Some(ip.into()),
        connection_port: Some(port),
        ..Default::default()
    };
    info.header_value()
}

fn decoded_info(r: &tvpass_emulator::LoggedRequest) -> serde_json::Value {
    let raw = r.header("x-device-info").expect("X-Device-Info");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Threat 2 and 3: a caller who picks its own address. Without trusted proxies the headers
/// count for nothing; behind one, the address is read from the right; a device's own
/// `connectionIp` and `connectionPort` never reach Adobe Pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_addresses_never_reach_adobe_pass() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let direct = GatewayProcess::start(&emu, &[("GATEWAY_TRUSTED_PROXIES", String::new())]);
    let (_, token) = enrol(&direct.url);
    let forged = format!(
        "X-Forwarded-For: 203.0.113.9\r\nForwarded: for=\"203.0.113.9:1\"\r\nX-Device-Info: {}\r\n",
        device_info("203.0.113.9", 1)
    );
    let mut s = TcpStream::connect(common::addr(&direct.url)).unwrap();
    let port = s.local_addr().unwrap().port();
    emu.clear_requests();
    let (status, body) = raw_on(
        &mut s,
        &post(
            "/v1/sessions",
            Some(&token),
            &forged,
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    assert_eq!(status, 200, "{body}");
    let sent = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sessions"))
        .unwrap();
    assert_eq!(sent.header("x-forwarded-for"), Some("127.0.0.1"));
    let info = decoded_info(&sent);
    assert_eq!(info["connectionIp"], "127.0.0.1", "{info}");
    assert_eq!(info["connectionPort"], port, "{info}");
    assert_eq!(info["osName"], "Roku OS");

    // Behind a trusted proxy (the test, on loopback): the client wrote 203.0.113.9, the proxy
    // appended the address it saw, 198.51.100.4, and reported its port in Forwarded.
    let behind = GatewayProcess::start(&emu, &[]);
    let (_, token) = enrol(&behind.url);
    emu.clear_requests();
    let chain = format!(
        "X-Forwarded-For: 203.0.113.9, 198.51.100.4\r\nX-Device-Info: {}\r\n",
        device_info("203.0.113.9", 1)
    );
    let (status, _) = raw(
        &behind.url,
        &post(
            "/v1/sessions",
            Some(&token),
            &chain,
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    assert_eq!(status, 200);
    let sent = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sessions"))
        .unwrap();
    assert_eq!(sent.header("x-forwarded-for"), Some("198.51.100.4"));
    let info = decoded_info(&sent);
    assert_eq!(info["connectionIp"], "198.51.100.4", "{info}");
    assert!(
        info.get("connectionPort").is_none(),
        "no port reported: none sent ({info})"
    );
    emu.clear_requests();
    let rfc = "Forwarded: for=\"203.0.113.9:1\", for=\"198.51.100.4:40123\"\r\n";
    let (status, _) = raw(
        &behind.url,
        &post(
            "/v1/sessions",
            Some(&token),
            rfc,
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    assert_eq!(status, 200);
    let sent = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sessions"))
        .unwrap();
    assert_eq!(sent.header("x-forwarded-for"), Some("198.51.100.4"));
    if sent.header("x-device-info").is_some() {
        assert_eq!(decoded_info(&sent)["connectionPort"], 40123);
    }
}

/// Threat 5: a misconfigured gateway fails closed, with one line naming what to set.
#[test]
fn a_misconfigured_gateway_does_not_start() {
    let run = |env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tvpass-gateway"))
            .env_clear()
            .env("GATEWAY_ADDR", "127.0.0.1:0")
            .env("GATEWAY_ADMIN_ADDR", "127.0.0.1:0")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let real = [
        ("TVPASS_BASE_URL", "https://api.auth.adobe.com"),
        ("TVPASS_SERVICE_PROVIDER", "REF30"),
        ("TVPASS_SOFTWARE_STATEMENT", "statement"),
        ("GATEWAY_DEVICE_KEY", DEVICE_KEY),
    ];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("GATEWAY_DEVICE_KEY", DEVICE_KEY)], "TVPASS_BASE_URL"),
        (real[..3].to_vec(), "GATEWAY_DEVICE_KEY"),
        (
            [&real[..], &[("GATEWAY_BEHIND_PROXY", "1")]].concat(),
            "GATEWAY_TRUSTED_PROXIES",
        ),
        (
            [
                &real[..],
                &[("TVPASS_REDIS_URL", "redis://redis.invalid:6379/0")],
            ]
            .concat(),
            "TVPASS_REDIS_INSECURE",
        ),
        (
            [&real[..], &[("GATEWAY_MAX_CONNECTIONS", "0")]].concat(),
            "GATEWAY_MAX_CONNECTIONS",
        ),
    ];
    for (env, naming) in cases {
        let (code, err) = run(&env);
        assert_eq!(code, Some(2), "{naming}: {err}");
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("tvpass-gateway:"))
            .collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(lines[0].contains(naming), "{err}");
        assert!(!err.contains(DEVICE_KEY));
    }
}

/// Threat 5 (development): the emulator serves only when asked, and says so on every health
/// answer.
#[tokio::test]
async fn the_emulator_serves_only_when_asked_and_health_says_so() {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tvpass-gateway"));
    c.env_clear()
        .env("GATEWAY_EMULATOR", "1")
        .env("GATEWAY_DEVICE_KEY", DEVICE_KEY)
        .env("GATEWAY_ADDR", "127.0.0.1:0")
        .env("GATEWAY_ADMIN_ADDR", "127.0.0.1:0");
    let gw = GatewayProcess::start_with(c, &[]);
    for _ in 0..2 {
        let (status, body) = raw(&gw.admin, &get("/healthz", None, ""));
        assert_eq!(status, 200);
        let h: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(h["warnings"], serde_json::json!(["emulator"]), "{h}");
    }
}

/// Threat 7: internals are not on the devices' port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_answer_only_on_the_admin_listener() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let gw = GatewayProcess::start(&emu, &[]);
    for path in ["/metrics", "/healthz"] {
        assert_eq!(
            raw(&gw.url, &get(path, None, "")),
            (404, r#"{"error":"not_found"}"#.into())
        );
        assert_eq!(raw(&gw.admin, &get(path, None, "")).0, 200, "{path}");
    }
    assert!(
        gw.admin.starts_with("http://127.0.0.1:"),
        "loopback by default"
    );
}

/// Threat 7: failures reach devices as stable codes, never the failure's text; a Deny keeps the
/// service's own reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_stable_codes_and_a_deny_keeps_the_services_reason() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let gw = GatewayProcess::start(&emu, &[]);
    let (_, token) = enrol(&gw.url);
    emu.inject_fault("/api/v2/", Fault::Status { status: 500 }, u32::MAX);
    let (status, body) = raw(
        &gw.url,
        &post(
            "/v1/sessions",
            Some(&token),
            "",
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    assert_eq!((status, body.as_str()), (502, r#"{"error":"upstream"}"#));
    emu.clear_faults();
    for (request, expected) in [
        (
            post("/v1/authorize", Some(&token), "", "{\"mvpd\":"),
            r#"{"error":"bad_request"}"#,
        ),
        (
            post(
                "/v1/authorize",
                Some(&token),
                "",
                r#"{"mvpd":"..","resource":"news"}"#,
            ),
            r#"{"error":"bad_request"}"#,
        ),
        (
            get("/v1/nothing", Some(&token), ""),
            r#"{"error":"not_found"}"#,
        ),
        (
            get("/v1/authorize", Some(&token), ""),
            r#"{"error":"method_not_allowed"}"#,
        ),
    ] {
        assert_eq!(raw(&gw.url, &request).1, expected, "{request}");
    }
    // No profile: a Deny, its reason the service's code and its message for the user.
    let (status, body) = raw(
        &gw.url,
        &post(
            "/v1/authorize",
            Some(&token),
            "",
            r#"{"mvpd":"Cablevision","resource":"news"}"#,
        ),
    );
    assert_eq!(status, 200);
    let deny: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(deny["permit"], false, "{deny}");
    let reason = deny["reason"].as_str().unwrap();
    assert!(
        reason.chars().all(|c| c.is_ascii_lowercase() || c == '_') && reason.contains('_'),
        "{reason}"
    );
    assert!(
        deny["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{deny}"
    );
}

/// Reads until the peer closes the connection (or `limit` passes): whether it closed.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Threat 6: a thousand connections that send half a header hold nothing: a device's call
/// still answers within 2 s, and each half-open connection is closed within the header
/// timeout of its opening (with a margin for a thousand closes on a loaded machine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_half_headers_hold_nothing() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let timeout = Duration::from_secs(3);
    let gw = GatewayProcess::start(
        &emu,
        &[("GATEWAY_HEADER_TIMEOUT_MS", timeout.as_millis().to_string())],
    );
    let (_, token) = enrol(&gw.url);
    let started = Instant::now();
    let mut slow: Vec<(TcpStream, Instant)> = Vec::new();
    for _ in 0..1000 {
        let mut s = TcpStream::connect(common::addr(&gw.url)).unwrap();
        let opened = Instant::now();
        // On a slow machine the first may be closed already: that is the point.
        let _ = s.write_all(b"POST /v1/sessions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bear");
        slow.push((s, opened));
    }
    println!("1,000 half headers sent in {:?}", started.elapsed());
    let t = Instant::now();
    let (status, _) = raw(
        &gw.url,
        &post(
            "/v1/sessions",
            Some(&token),
            "",
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    let took = t.elapsed();
    println!("a device's call among them: {status} in {took:?}");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(2), "{took:?}");
    let margin = Duration::from_secs(5);
    for (i, (s, opened)) in slow.iter_mut().enumerate() {
        let left = (*opened + timeout + margin)
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        assert!(
            closed_within(s, left),
            "connection {i} still open {:?} after it opened",
            opened.elapsed()
        );
    }
    println!(
        "every one closed within {:?} of its opening",
        timeout + margin
    );
}

/// Threat 6: an idle connection is closed after the idle timeout; one in use stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_busy_ones_kept() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let gw = GatewayProcess::start(
        &emu,
        &[
            ("GATEWAY_IDLE_TIMEOUT_MS", "1500".to_string()),
            ("GATEWAY_HEADER_TIMEOUT_MS", "10000".to_string()),
        ],
    );
    let keep_alive = "GET /v1/nothing HTTP/1.1\r\nHost: gw\r\n\r\n";
    let mut idle = TcpStream::connect(common::addr(&gw.url)).unwrap();
    let opened = Instant::now();
    assert!(
        closed_within(&mut idle, Duration::from_secs(10)),
        "never closed"
    );
    let idle_for = opened.elapsed();
    println!("an idle connection closed after {idle_for:?}");
    assert!(idle_for >= Duration::from_millis(1400), "{idle_for:?}");
    // A connection that sends a request every 500 ms outlives the idle timeout.
    let mut busy = TcpStream::connect(common::addr(&gw.url)).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4096];
    for _ in 0..6 {
        busy.write_all(keep_alive.as_bytes()).unwrap();
        let n = busy.read(&mut buf).unwrap();
        assert!(
            n > 0 && buf.starts_with(b"HTTP/1.1 404"),
            "closed while in use"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Threat 6: each limit at, under and over: open connections, calls in flight, resources of
/// one preauthorize, enrolments per address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_limit_holds_at_under_and_over() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let gw = GatewayProcess::start(
        &emu,
        &[
            ("GATEWAY_MAX_CONNECTIONS", "4".to_string()),
            ("GATEWAY_MAX_IN_FLIGHT", "2".to_string()),
            ("GATEWAY_MAX_RESOURCES", "3".to_string()),
            ("GATEWAY_ENROLMENTS_PER_MINUTE", "3".to_string()),
        ],
    );
    // Enrolments: 3 from one address, then 429; another address still enrols.
    let from = |ip: &str| format!("X-Forwarded-For: {ip}\r\n");
    for _ in 0..3 {
        assert_eq!(
            raw(
                &gw.url,
                &post("/v1/devices", None, &from("198.51.100.1"), "")
            )
            .0,
            201
        );
    }
    let (status, body) = raw(
        &gw.url,
        &post("/v1/devices", None, &from("198.51.100.1"), ""),
    );
    assert_eq!((status, body.as_str()), (429, r#"{"error":"throttled"}"#));
    let (status, body) = raw(
        &gw.url,
        &post("/v1/devices", None, &from("198.51.100.2"), "{}"),
    );
    assert_eq!(status, 201, "{body}");
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        raw(
            &gw.url,
            &post("/v1/devices", None, &from("198.51.100.3"), "[1]")
        )
        .0,
        400
    );

    // Resources: 2 and 3 (one a duplicate) pass, 4 are refused before Adobe Pass.
    let pre = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!("\"r{}\"", i.min(2))).collect();
        post(
            "/v1/preauthorize",
            Some(&token),
            "",
            &format!(
                r#"{{"mvpd":"Cablevision","resources":[{}]}}"#,
                list.join(",")
            ),
        )
    };
    assert_eq!(raw(&gw.url, &pre(2)).0, 200);
    assert_eq!(raw(&gw.url, &pre(3)).0, 200);
    let before = upstream(&emu);
    assert_eq!(
        raw(&gw.url, &pre(4)),
        (400, r#"{"error":"too_many_resources"}"#.into())
    );
    assert_eq!(upstream(&emu), before);

    // Calls in flight: 2 held at Adobe Pass, the third is busy at once.
    emu.inject_fault("/api/v2/", Fault::Delay { ms: 3_000 }, 2);
    let held: Vec<_> = (0..2)
        .map(|_| {
            let (url, token) = (gw.url.clone(), token.clone());
            std::thread::spawn(move || {
                raw(
                    &url,
                    &post(
                        "/v1/sessions",
                        Some(&token),
                        "",
                        r#"{"mvpd":"Cablevision"}"#,
                    ),
                )
            })
        })
        .collect();
    let waited = Instant::now();
    while emu.armed_faults() > 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the calls never reached Adobe Pass"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (status, body) = raw(
        &gw.url,
        &post(
            "/v1/sessions",
            Some(&token),
            "",
            r#"{"mvpd":"Cablevision"}"#,
        ),
    );
    assert_eq!((status, body.as_str()), (503, r#"{"error":"busy"}"#));
    for h in held {
        assert_eq!(h.join().unwrap().0, 200);
    }
    // Under the limit again: served.
    assert_eq!(
        raw(
            &gw.url,
            &post(
                "/v1/sessions",
                Some(&token),
                "",
                r#"{"mvpd":"Cablevision"}"#
            )
        )
        .0,
        200
    );

    // Connections: 4 open are served; the 5th is closed as it arrives; one closes, and a new
    // one is served again.
    let mut open: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(common::addr(&gw.url)).unwrap())
        .collect();
    // Each is taken once the gateway answers on it.
    for s in &mut open {
        s.write_all(b"GET /v1/nothing HTTP/1.1\r\nHost: gw\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 1024];
        assert!(s.read(&mut buf).unwrap() > 0);
    }
    // The 4th, at the limit, is served.
    let mut fourth = TcpStream::connect(common::addr(&gw.url)).unwrap();
    fourth
        .write_all(b"GET /v1/nothing HTTP/1.1\r\nHost: gw\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    assert!(fourth.read(&mut buf).unwrap() > 0);
    // Over it: closed without an answer.
    let mut over = TcpStream::connect(common::addr(&gw.url)).unwrap();
    let _ = over.write_all(b"GET /v1/nothing HTTP/1.1\r\nHost: gw\r\n\r\n");
    assert!(
        closed_within(&mut over, Duration::from_secs(5)),
        "a 5th connection was served"
    );
    drop(open.pop());
    let served_again = Instant::now();
    loop {
        let mut s = TcpStream::connect(common::addr(&gw.url)).unwrap();
        let _ = s.write_all(b"GET /v1/nothing HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        if answer.starts_with(b"HTTP/1.1 404") {
            break;
        }
        assert!(
            served_again.elapsed() < Duration::from_secs(10),
            "a freed place was never reused"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
