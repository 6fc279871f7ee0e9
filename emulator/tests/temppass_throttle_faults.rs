mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tvpass_emulator::{EmulatorConfig, Fault, ThrottlingConfig};

const BASIC: &str = "TempPass_10min";
const PROMO: &str = "TempPass_Promo";
// SHA-256 of "user@domain.com" and of "other@domain.com".
const ALICE: &str = "f7ee5ec7312165148b69fcca1d29075b14b8aef0b5048a332b18b88d09069fb7";
const BOB: &str = "0b5d3ac6b0a6d0ad8cfa2bb5d1a3ea8f2d5e5b1e8c6a6d6f1a2b3c4d5e6f7a8b";

fn decisions(v: &Value) -> Vec<(bool, String)> {
    v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["authorized"].as_bool().unwrap(),
                d["error"]["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn basic_temppass_runs_from_first_authorization_per_device() {
    let mut h = H::new().await;
    // Preauthorization before the first authorization permits and does not start the clock.
    let (_, v) = body(
        h.decide("preauthorize", BASIC, &["a", "b", "c"], None)
            .await,
    )
    .await;
    assert_eq!(decisions(&v), vec![(true, String::new()); 3]);
    h.emu.advance(Duration::from_secs(3600));
    h.token = h.new_token().await;
    let (_, v) = body(h.decide("authorize", BASIC, &["movies"], None).await).await;
    let d = &v["decisions"][0];
    assert_eq!(
        (d["authorized"].as_bool(), d["source"].as_str()),
        (Some(true), Some("temppass"))
    );
    assert!(d["token"]["serializedToken"].is_string());
    let (_, v) = body(
        h.get(&format!("/api/v2/REF30/profiles/{BASIC}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let p = &v["profiles"][BASIC];
    assert_eq!(
        (p["type"].as_str(), p["issuer"].as_str()),
        (Some("temporary"), Some("Adobe"))
    );
    assert_eq!(p["attributes"]["expiration_date"]["value"], p["notAfter"]);
    assert_eq!(
        p["notAfter"].as_i64().unwrap() - p["notBefore"].as_i64().unwrap(),
        600_000
    );

    h.emu.advance(Duration::from_secs(599));
    let (_, v) = body(h.decide("authorize", BASIC, &["other"], None).await).await;
    assert_eq!(
        decisions(&v),
        vec![(true, String::new())],
        "still within the TTL"
    );
    h.emu.advance(Duration::from_secs(1));
    let (_, v) = body(h.decide("authorize", BASIC, &["movies"], None).await).await;
    assert_eq!(
        decisions(&v),
        vec![(false, "temporary_access_duration_limit_exceeded".into())]
    );
    assert_eq!(v["decisions"][0]["error"]["action"], "authentication");
    let (_, v) = body(h.decide("preauthorize", BASIC, &["a"], None).await).await;
    assert_eq!(
        decisions(&v),
        vec![(false, "temporary_access_duration_limit_exceeded".into())]
    );
    let (s, v) = body(
        h.get(&format!("/api/v2/REF30/profiles/{BASIC}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (403, "temporary_access_duration_limit_exceeded")
    );
    // Another device has its own trial.
    h.device = "device-2".into();
    let (_, v) = body(h.decide("authorize", BASIC, &["movies"], None).await).await;
    assert_eq!(decisions(&v), vec![(true, String::new())]);

    // Reset for the first device: management API with its own token.
    h.device = "device-1".into();
    let reset = |q: String| {
        h.http
            .delete(h.url(&format!("/reset-tempass/v3/reset{q}")))
            .bearer_auth(&h.token)
            .send()
    };
    let r = reset(format!(
        "?requestor_id=REF30&mvpd_id={BASIC}&device_id=device-1"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let (_, v) = body(h.decide("authorize", BASIC, &["movies"], None).await).await;
    assert_eq!(
        decisions(&v),
        vec![(true, String::new())],
        "a reset device starts a new trial"
    );
    // Reset errors.
    assert_eq!(
        reset(format!("?mvpd_id={BASIC}")).await.unwrap().status(),
        400
    );
    assert_eq!(
        reset("?requestor_id=REF30&mvpd_id=Cablevision".into())
            .await
            .unwrap()
            .status(),
        400
    );
    let anon = h
        .http
        .delete(h.url(&format!(
            "/reset-tempass/v3/reset?requestor_id=REF30&mvpd_id={BASIC}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    // All devices.
    assert_eq!(
        reset(format!("?requestor_id=REF30&mvpd_id={BASIC}&device_id=all"))
            .await
            .unwrap()
            .status(),
        204
    );
    h.emu.revoke_client(&h.client_id);
    assert_eq!(
        reset(format!("?requestor_id=REF30&mvpd_id={BASIC}"))
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn promotional_temppass_counts_resources_and_finds_trials_by_identity_or_device() {
    let mut h = H::new().await;
    let alice = identity(ALICE);
    // Identity required, and hashed.
    let (s, v) = body(h.decide("authorize", PROMO, &["r1"], None).await).await;
    assert_eq!(s, 200);
    assert_eq!(
        decisions(&v),
        vec![(false, "invalid_header_identity_for_temporary_access".into())]
    );
    assert_eq!(v["decisions"][0]["error"]["status"], 400);
    let raw = identity("user@domain.com");
    let (_, v) = body(h.decide("authorize", PROMO, &["r1"], Some(&raw)).await).await;
    assert_eq!(
        decisions(&v)[0].1,
        "invalid_header_identity_for_temporary_access"
    );
    let (s, v) = body(
        h.get(&format!("/api/v2/REF30/profiles/{PROMO}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_header_identity_for_temporary_access")
    );

    for r in ["r1", "r2", "r1"] {
        let (_, v) = body(h.decide("authorize", PROMO, &[r], Some(&alice)).await).await;
        assert_eq!(decisions(&v), vec![(true, String::new())], "{r}");
    }
    let (_, v) = body(
        h.get(&format!("/api/v2/REF30/profiles/{PROMO}"))
            .header("ap-temppass-identity", &alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let a = &v["profiles"][PROMO]["attributes"];
    assert_eq!(a["remaining_resources"]["value"], 1);
    assert_eq!(a["used_assets"]["value"], json!(["r1", "r2"]));
    assert!(a["expiration_date"]["value"].is_i64());

    // Same identity on a new device: the existing trial.
    h.device = "device-2".into();
    let (_, v) = body(h.decide("authorize", PROMO, &["r3"], Some(&alice)).await).await;
    assert_eq!(decisions(&v), vec![(true, String::new())]);
    let (_, v) = body(h.decide("authorize", PROMO, &["r4"], Some(&alice)).await).await;
    assert_eq!(
        decisions(&v),
        vec![(false, "temporary_access_resources_limit_exceeded".into())]
    );
    // A new identity on an existing device: the device's existing trial.
    let bob = identity(BOB);
    let (_, v) = body(h.decide("authorize", PROMO, &["r5"], Some(&bob)).await).await;
    assert_eq!(
        decisions(&v),
        vec![(false, "temporary_access_resources_limit_exceeded".into())]
    );
    let (_, v) = body(
        h.decide("preauthorize", PROMO, &["r1", "r9"], Some(&bob))
            .await,
    )
    .await;
    assert_eq!(
        decisions(&v),
        vec![
            (true, String::new()),
            (false, "temporary_access_resources_limit_exceeded".into())
        ]
    );
    let (s, v) = body(
        h.get(&format!("/api/v2/REF30/profiles/{PROMO}"))
            .header("ap-temppass-identity", &bob)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (403, "temporary_access_resources_limit_exceeded")
    );
    // New identity and new device: a new trial.
    h.device = "device-3".into();
    let carol = identity(&"c".repeat(64));
    let (_, v) = body(h.decide("authorize", PROMO, &["r1"], Some(&carol)).await).await;
    assert_eq!(decisions(&v), vec![(true, String::new())]);

    // Reset by key removes Alice's (and so Bob's, shared) trial.
    let r = h
        .http
        .delete(h.url(&format!(
            "/reset-tempass/v3/reset/generic?requestor_id=REF30&mvpd_id={PROMO}&key={ALICE}"
        )))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    h.device = "device-2".into();
    let (_, v) = body(h.decide("authorize", PROMO, &["r4"], Some(&alice)).await).await;
    assert_eq!(decisions(&v), vec![(true, String::new())]);
    // TTL applies to promotional too.
    h.emu.advance(Duration::from_secs(24 * 3600));
    h.token = h.new_token().await;
    let (_, v) = body(h.decide("authorize", PROMO, &["r4"], Some(&alice)).await).await;
    assert_eq!(
        decisions(&v),
        vec![(false, "temporary_access_duration_limit_exceeded".into())]
    );
    let r = h
        .http
        .delete(h.url(&format!(
            "/reset-tempass/v3/reset/generic?requestor_id=REF30&mvpd_id={PROMO}&key=all"
        )))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, v) = body(h.decide("authorize", PROMO, &["r4"], Some(&alice)).await).await;
    assert_eq!(decisions(&v), vec![(true, String::new())]);
}

#[tokio::test]
async fn throttling_follows_the_documented_token_bucket() {
    let h = H::with(EmulatorConfig::default()).await; // 2 requests: register, token
    let cfg = format!("/api/v2/{SP}/configuration");
    let mut statuses = Vec::new();
    for _ in 0..9 {
        statuses.push(h.get(&cfg).send().await.unwrap().status().as_u16());
    }
    // Burst 10 + the first second's request = 11 before the first 429 (2 already used).
    assert_eq!(statuses, [200; 9]);
    let r = h.get(&cfg).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Another device (X-Forwarded-For) has its own bucket.
    let r = h
        .get(&cfg)
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // One second later one more request passes, then 429 again.
    h.emu.advance(Duration::from_millis(1000));
    assert_eq!(h.get(&cfg).send().await.unwrap().status(), 200);
    assert_eq!(h.get(&cfg).send().await.unwrap().status(), 429);
    // DCR endpoints are throttled too.
    let r = h.http.post(h.url("/o/client/token")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(
        h.emu.requests().iter().filter(|r| r.status == 429).count(),
        3
    );
    // Switched off.
    h.emu.set_throttling(ThrottlingConfig {
        enabled: false,
        ..ThrottlingConfig::default()
    });
    for _ in 0..20 {
        assert_eq!(h.get(&cfg).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn injected_faults() {
    let h = H::new().await;
    let cfg = format!("/api/v2/{SP}/configuration");
    let get = || h.get(&cfg).send();

    h.emu.inject_fault(&cfg, Fault::Status { status: 500 }, 2);
    for _ in 0..2 {
        let (s, v) = body(get().await.unwrap()).await;
        assert_eq!(
            (s, v["code"].as_str().unwrap()),
            (500, "internal_server_error")
        );
    }
    assert_eq!(get().await.unwrap().status(), 200, "the fault ran out");

    h.emu.inject_fault(&cfg, Fault::Status { status: 503 }, 1);
    assert_eq!(get().await.unwrap().status(), 503);
    h.emu.inject_fault(&cfg, Fault::Throttle, 1);
    assert_eq!(get().await.unwrap().status(), 429);

    h.emu.inject_fault(&cfg, Fault::Drop, 1);
    let dropped = match get().await {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(dropped, "the connection broke");

    h.emu.inject_fault(&cfg, Fault::Truncate, 1);
    let r = get().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(!text.is_empty() && serde_json::from_str::<Value>(&text).is_err());

    h.emu.inject_fault(&cfg, Fault::InvalidJson, 1);
    let r = get().await.unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());

    h.emu
        .inject_fault(&cfg, Fault::Oversized { bytes: 3_000_000 }, 1);
    assert_eq!(get().await.unwrap().bytes().await.unwrap().len(), 3_000_000);

    h.emu.inject_fault(&cfg, Fault::Html { status: 502 }, 1);
    let r = get().await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    h.emu.inject_fault(&cfg, Fault::Xml { status: 500 }, 1);
    assert_eq!(
        get().await.unwrap().headers()["content-type"],
        "application/xml"
    );
    h.emu.inject_fault(&cfg, Fault::WrongContentType, 1);
    let r = get().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_ok());

    h.emu.inject_fault(&cfg, Fault::Delay { ms: 300 }, 1);
    let t = std::time::Instant::now();
    assert_eq!(get().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // Faults match by path prefix only.
    h.emu
        .inject_fault("/api/v2/REF30/decisions", Fault::Status { status: 500 }, 1);
    assert_eq!(get().await.unwrap().status(), 200);
}

#[tokio::test]
async fn admin_api_over_http() {
    let h = H::new().await;
    let admin = |p: &str| h.url(&format!("/__emulator{p}"));
    let before: Value = h
        .http
        .get(admin("/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let after: Value = h
        .http
        .post(admin("/clock/advance"))
        .json(&json!({"seconds": 60}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(after["now"].as_i64().unwrap() - before["now"].as_i64().unwrap() >= 60_000);

    let v: Value = h
        .form(
            "/api/v2/REF30/sessions",
            "mvpd=Cablevision&domainName=a.com&redirectUrl=https%3A%2F%2Fa.com",
        )
        .await
        .json()
        .await
        .unwrap();
    let code = v["code"].as_str().unwrap();
    let r = h
        .http
        .post(admin(&format!("/sessions/{code}/complete")))
        .json(&json!({"attributes": {"zip": "10001"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, p) = body(
        h.get(&format!("/api/v2/REF30/profiles/code/{code}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        p["profiles"]["Cablevision"]["attributes"]["zip"],
        json!({"value": "10001", "state": "plain"})
    );
    assert_eq!(
        h.http
            .post(admin("/sessions/NOPE/complete"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let rule = json!({"path": "/api/v2/REF30/configuration", "fault": {"kind": "status", "status": 503}, "remaining": 1});
    assert_eq!(
        h.http
            .post(admin("/faults"))
            .json(&rule)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        h.get("/api/v2/REF30/configuration")
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    let log: Value = h
        .http
        .get(admin("/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    assert!(log
        .iter()
        .all(|r| !r["path"].as_str().unwrap().starts_with("/__emulator")));
    let last = log.last().unwrap();
    assert_eq!(
        (last["method"].as_str(), last["status"].as_u64()),
        (Some("GET"), Some(503))
    );
    assert!(last["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "ap-device-identifier"));
    let token_call = log.iter().find(|r| r["path"] == "/o/client/token").unwrap();
    assert!(token_call["body"]
        .as_str()
        .unwrap()
        .contains("grant_type=client_credentials"));
    assert_eq!(
        h.http
            .delete(admin("/requests"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(h.emu.requests().len(), 0);

    let t: Value = h
        .http
        .get(admin("/throttling"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["enabled"], false);
    let r = h
        .http
        .put(admin("/throttling"))
        .json(&json!({"enabled": true, "requests_per_second": 1.0, "burst": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        h.get("/api/v2/REF30/configuration")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        h.get("/api/v2/REF30/configuration")
            .send()
            .await
            .unwrap()
            .status(),
        429
    );

    assert_eq!(
        h.http
            .post(admin(&format!("/clients/{}/revoke", h.client_id)))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        h.http.post(admin("/reset")).send().await.unwrap().status(),
        204
    );
    assert!(h.emu.client_ids().is_empty());
    assert_eq!(
        h.get("/api/v2/REF30/configuration")
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "tokens forgotten"
    );
}

#[tokio::test]
async fn bad_input_gets_documented_statuses() {
    let h = H::new().await;
    let (s, _) = body(h.get("/api/v2/REF30/nothing/here").send().await.unwrap()).await;
    assert_eq!(s, 404);
    let r = h
        .http
        .delete(h.url("/api/v2/REF30/configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let huge = "x".repeat(200_000);
    let r = h
        .post("/api/v2/REF30/decisions/authorize/Cablevision")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = h
        .post("/api/v2/REF30/sessions")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("mvpd=a&mvpd=b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = h
        .http
        .post(h.url("/__emulator/clock/advance"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    // The server still serves after all of that.
    assert_eq!(
        h.get("/api/v2/REF30/configuration")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
