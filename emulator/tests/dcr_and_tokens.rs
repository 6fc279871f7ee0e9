mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tvpass_emulator::{EmulatorConfig, SoftwareStatementConfig};

async fn register(h: &H, content_type: &str, body: &str, with_info: bool) -> (u16, Value) {
    let mut rb = h
        .http
        .post(h.url("/o/client/register"))
        .header("content-type", content_type)
        .body(body.to_string());
    if with_info {
        rb = rb.header("x-device-info", device_info());
    }
    body_of(rb.send().await.unwrap()).await
}

async fn body_of(r: reqwest::Response) -> (u16, Value) {
    body(r).await
}

#[tokio::test]
async fn register_answers_documented_shape_and_errors() {
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    config.software_statements.push(SoftwareStatementConfig {
        statement: "unapproved".into(),
        service_provider: "REF30".into(),
        approved: false,
        ..Default::default()
    });
    let h = H::with(config).await;
    let ok = json!({"software_statement": tvpass_emulator::DEFAULT_SOFTWARE_STATEMENT, "redirect_uri": "app://cb"}).to_string();
    let (s, v) = register(&h, "application/json;charset=utf-8", &ok, true).await;
    assert_eq!(s, 201);
    for k in ["client_id", "client_secret"] {
        assert!(v[k].as_str().is_some_and(|x| !x.is_empty()), "{k}");
    }
    assert!(v["client_id_issued_at"].is_i64());
    assert_eq!(v["grant_types"], json!(["client_credentials"]));
    assert!(v["redirect_uris"]
        .as_array()
        .unwrap()
        .contains(&json!("app://cb")));
    assert_eq!(v["scopes"], json!(["api:client:v2"]));

    let cases = [
        ("application/json", "{not json".to_string(), true, "invalid_request"),
        ("application/json", "{}".to_string(), true, "invalid_request"),
        ("text/plain", ok.clone(), true, "invalid_request"),
        ("application/json", ok.clone(), false, "invalid_request"),
        (
            "application/json",
            json!({"software_statement": tvpass_emulator::DEFAULT_SOFTWARE_STATEMENT, "redirect_uri": "not a uri"}).to_string(),
            true,
            "invalid_redirect_uri",
        ),
        ("application/json", json!({"software_statement": "forged"}).to_string(), true, "invalid_software_statement"),
        ("application/json", json!({"software_statement": "unapproved"}).to_string(), true, "unapproved_software_statement"),
    ];
    for (ct, body, info, error) in cases {
        let (s, v) = register(&h, ct, &body, info).await;
        assert_eq!((s, v["error"].as_str().unwrap()), (400, error), "{body}");
    }
}

#[tokio::test]
async fn token_answers_documented_shape_errors_and_expires_with_the_clock() {
    let h = H::new().await;
    let send = |body: String| {
        h.http
            .post(h.url("/o/client/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-device-info", device_info())
            .body(body)
            .send()
    };
    let good = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        h.client_id, h.client_secret
    );
    let (s, v) = body(send(good.clone()).await.unwrap()).await;
    assert_eq!(s, 201);
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 21600);
    assert!(
        v["created_at"].as_i64().unwrap() > 1_600_000_000_000,
        "milliseconds"
    );
    assert!(v["id"].is_string() && v["access_token"].is_string());

    let cases = [
        (
            format!("client_id={}&grant_type=client_credentials", h.client_id),
            "invalid_request",
        ),
        (format!("{good}&client_id=again"), "invalid_request"),
        (
            format!(
                "client_id={}&client_secret=wrong&grant_type=client_credentials",
                h.client_id
            ),
            "invalid_client",
        ),
        (
            format!(
                "client_id=nobody&client_secret={}&grant_type=client_credentials",
                h.client_secret
            ),
            "invalid_client",
        ),
        (
            format!(
                "client_id={}&client_secret={}&grant_type=password",
                h.client_id, h.client_secret
            ),
            "unsupported_grant_type",
        ),
    ];
    for (b, e) in cases {
        let (s, v) = body(send(b.clone()).await.unwrap()).await;
        assert_eq!((s, v["error"].as_str().unwrap()), (400, e), "{b}");
    }

    // The token works, then expires when the clock passes expires_in.
    let cfg = format!("/api/v2/{SP}/configuration");
    assert_eq!(h.get(&cfg).send().await.unwrap().status(), 200);
    h.emu.advance(Duration::from_secs(21600));
    let (s, v) = body(h.get(&cfg).send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert_eq!(v["status"], 401);
    // A revoked client gets no new token.
    assert!(h.emu.revoke_client(&h.client_id));
    let (s, v) = body(send(good).await.unwrap()).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "invalid_client"));
}

#[tokio::test]
async fn bearer_checks_on_api_calls() {
    let h = H::new().await;
    let cfg = format!("/api/v2/{SP}/configuration");
    let (s, v) = body(h.http.get(h.url(&cfg)).send().await.unwrap()).await;
    assert_eq!(s, 401, "missing token");
    assert!(v["code"].is_string() && v["action"].is_string());
    let (s, _) = body(
        h.http
            .get(h.url(&cfg))
            .bearer_auth("forged")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401, "unknown token");
    let (s, v) = body(h.get("/api/v2/OTHER/configuration").send().await.unwrap()).await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_parameter_service_provider")
    );

    h.emu.revoke_client(&h.client_id);
    let (s, v) = body(h.get(&cfg).send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert_eq!(v["code"], "invalid_access_token_client_application");
    assert_eq!(v["action"], "application-registration");
}

#[tokio::test]
async fn a_token_of_another_service_provider_is_refused() {
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    let mut other = config.service_providers[0].clone();
    other.id = "OTHER".into();
    config.service_providers.push(other);
    let h = H::with(config).await;
    let (s, v) = body(h.get("/api/v2/OTHER/configuration").send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert_eq!(v["code"], "invalid_access_token_service_provider");
    assert_eq!(v["action"], "application-registration");
}

#[tokio::test]
async fn configuration_lists_mvpds_with_temppass_flags() {
    let h = H::new().await;
    let (s, v) = body(
        h.http
            .get(h.url(&format!("/api/v2/{SP}/configuration")))
            .bearer_auth(&h.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "device headers are optional here");
    assert_eq!(v["requestor"]["id"], SP);
    let mvpds = v["requestor"]["mvpds"].as_array().unwrap();
    assert_eq!(mvpds.len(), 4);
    let tp: Vec<_> = mvpds
        .iter()
        .filter(|m| m["isTempPass"] == true)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(tp, ["TempPass_10min", "TempPass_Promo"]);
    assert!(mvpds
        .iter()
        .all(|m| m["displayName"].is_string() && m["logoUrl"].is_string()));
}
