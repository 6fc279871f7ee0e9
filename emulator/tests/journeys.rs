mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tvpass_emulator::{Degradation, EmulatorConfig, Fault};

const SESSIONS: &str = "/api/v2/REF30/sessions";
const FULL: &str = "mvpd=Cablevision&domainName=adobe.com&redirectUrl=https%3A%2F%2Fadobe.com";

#[tokio::test]
async fn session_create_resume_retrieve_with_string_timestamps() {
    let h = H::new().await;
    let (s, v) = body(h.form(SESSIONS, "").await).await;
    assert_eq!(s, 200);
    assert_eq!(v["actionName"], "resume");
    assert_eq!(v["actionType"], "direct");
    assert_eq!(
        v["missingParameters"],
        json!(["mvpd", "domainName", "redirectUrl"])
    );
    let code = v["code"].as_str().unwrap().to_string();
    assert!(
        v["notAfter"].is_string() && v["notBefore"].is_string(),
        "session times are strings"
    );
    let na: i64 = v["notAfter"].as_str().unwrap().parse().unwrap();
    let nb: i64 = v["notBefore"].as_str().unwrap().parse().unwrap();
    assert_eq!(na - nb, 1800 * 1000);

    let (s, v) = body(
        h.form(
            &format!("{SESSIONS}/{code}"),
            "mvpd=Cablevision&domainName=adobe.com",
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["actionName"], "retry");
    assert_eq!(v["missingParameters"], json!(["redirectUrl"]));

    let (s, v) = body(h.get(&format!("{SESSIONS}/{code}")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(v["existingParameters"]["mvpd"], "Cablevision");
    assert_eq!(v["missingParameters"], json!(["redirectUrl"]));
    assert_eq!(v["device"]["primaryHardwareType"], "SetTopBox");
    assert!(v["notAfter"].is_string());
    // The documented alternative path answers the same.
    let (s, _) = body(
        h.get(&format!("/api/v2/sessions/REF30/{code}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);

    let (s, v) = body(
        h.form(
            &format!("{SESSIONS}/{code}"),
            "redirectUrl=https%3A%2F%2Fadobe.com",
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["actionName"], "authenticate");
    assert_eq!(v["actionType"], "interactive");
    assert_eq!(v["reasonType"], "none");
    assert_eq!(v["url"], format!("/api/v2/authenticate/REF30/{code}"));
    assert_eq!(v["mvpd"], "Cablevision");
    assert!(v.get("missingParameters").is_none());
}

#[tokio::test]
async fn user_agent_page_redirects_to_a_login_that_completes_the_profile() {
    let h = H::new().await;
    let v: Value = h.form(SESSIONS, FULL).await.json().await.unwrap();
    let code = v["code"].as_str().unwrap();
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .get(h.url(&format!("/api/v2/authenticate/REF30/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let login = r.headers()["location"].to_str().unwrap().to_string();
    let page = no_redirect.get(h.url(&login)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form"));
    let (_, p) = body(
        h.get(&format!("/api/v2/REF30/profiles/code/{code}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p["profiles"], json!({}), "empty until the user logs in");
    let done = no_redirect.post(h.url(&login)).send().await.unwrap();
    assert_eq!(done.status(), 302);
    assert_eq!(done.headers()["location"], "https://adobe.com");
    let (s, p) = body(
        h.get(&format!("/api/v2/REF30/profiles/code/{code}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let prof = &p["profiles"]["Cablevision"];
    assert_eq!(prof["type"], "regular");
    assert!(prof["notAfter"].is_i64(), "profile times are numbers");
    assert_eq!(prof["attributes"]["userID"]["state"], "plain");

    let bad = no_redirect
        .get(h.url("/api/v2/authenticate/REF30/NOPE"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn sessions_answer_authorize_when_a_profile_or_temppass_applies() {
    let h = H::new().await;
    h.login("Cablevision").await;
    let (_, v) = body(h.form(SESSIONS, FULL).await).await;
    assert_eq!(
        (v["actionName"].as_str(), v["reasonType"].as_str()),
        (Some("authorize"), Some("authenticated"))
    );
    assert_eq!(v["url"], "/api/v2/REF30/decisions/authorize/Cablevision");
    assert!(v.get("code").is_none());
    let (_, v) = body(
        h.form(
            SESSIONS,
            "mvpd=TempPass_10min&domainName=adobe.com&redirectUrl=https%3A%2F%2Fadobe.com",
        )
        .await,
    )
    .await;
    assert_eq!(
        (v["actionName"].as_str(), v["reasonType"].as_str()),
        (Some("authorize"), Some("temporary"))
    );
}

#[tokio::test]
async fn session_errors() {
    let h = H::new().await;
    let (s, v) = body(
        h.form(
            SESSIONS,
            "mvpd=Nope&domainName=a.com&redirectUrl=https%3A%2F%2Fa.com",
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_integration")
    );
    let (s, v) = body(
        h.form(
            SESSIONS,
            "mvpd=Cablevision&domainName=a.com&redirectUrl=not%20a%20url",
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_parameter_redirect_url")
    );
    let (s, v) = body(h.form(&format!("{SESSIONS}/UNKNOWN"), FULL).await).await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_parameter_code")
    );
    let v: Value = h.form(SESSIONS, FULL).await.json().await.unwrap();
    let code = v["code"].as_str().unwrap();
    h.emu.advance(Duration::from_secs(1801));
    let (s, v) = body(
        h.get(&format!("/api/v2/REF30/profiles/code/{code}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_authentication_session")
    );
    assert!(h
        .emu
        .complete_authentication(code, Default::default())
        .is_err());
}

#[tokio::test]
async fn device_headers_are_validated() {
    let h = H::new().await;
    let path = format!("/api/v2/{SP}/profiles");
    let call = |id: Option<&str>, info: Option<&str>| {
        let mut rb = h.http.get(h.url(&path)).bearer_auth(&h.token);
        if let Some(i) = id {
            rb = rb.header("ap-device-identifier", i);
        }
        if let Some(i) = info {
            rb = rb.header("x-device-info", i);
        }
        rb.send()
    };
    let good_id = device_id_header("d");
    let good_info = device_info();
    use base64::Engine;
    let bad_hw =
        base64::engine::general_purpose::STANDARD.encode(r#"{"primaryHardwareType":"Toaster"}"#);
    let cases = [
        (
            None,
            Some(good_info.as_str()),
            "invalid_header_device_identifier",
        ),
        (
            Some("fingerprint !!!"),
            Some(good_info.as_str()),
            "invalid_header_device_identifier",
        ),
        (
            Some("serial ZA=="),
            Some(good_info.as_str()),
            "invalid_header_device_identifier",
        ),
        (Some(good_id.as_str()), None, "invalid_header_device_info"),
        (
            Some(good_id.as_str()),
            Some("bm90IGpzb24="),
            "invalid_header_device_info",
        ),
        (
            Some(good_id.as_str()),
            Some(bad_hw.as_str()),
            "invalid_header_device_info",
        ),
    ];
    for (id, info, code) in cases {
        let (s, v) = body(call(id, info).await.unwrap()).await;
        assert_eq!(
            (s, v["code"].as_str().unwrap()),
            (400, code),
            "{id:?} {info:?}"
        );
        assert_eq!(v["action"], "none");
    }
    let (s, _) = body(call(Some(&good_id), Some(&good_info)).await.unwrap()).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn profiles_all_by_mvpd_and_expiry() {
    let mut h = H::new().await;
    h.login("Cablevision").await;
    let (s, v) = body(h.get("/api/v2/REF30/profiles").send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert!(v["profiles"]["Cablevision"].is_object());
    let (_, v) = body(
        h.get("/api/v2/REF30/profiles/Spectrum")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["profiles"], json!({}));
    let (_, v) = body(
        h.get("/api/v2/REF30/profiles/Cablevision")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let p = &v["profiles"]["Cablevision"];
    assert_eq!(
        p["notAfter"].as_i64().unwrap() - p["notBefore"].as_i64().unwrap(),
        30 * 24 * 3600 * 1000
    );
    let (s, v) = body(h.get("/api/v2/REF30/profiles/Nope").send().await.unwrap()).await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_integration")
    );
    // Another device sees nothing.
    let mut other = h.get("/api/v2/REF30/profiles").build().unwrap();
    other.headers_mut().insert(
        "ap-device-identifier",
        device_id_header("other").parse().unwrap(),
    );
    let v: Value = h.http.execute(other).await.unwrap().json().await.unwrap();
    assert_eq!(v["profiles"], json!({}));
    h.emu.advance(Duration::from_secs(30 * 24 * 3600));
    h.token = h.new_token().await;
    let (_, v) = body(h.get("/api/v2/REF30/profiles").send().await.unwrap()).await;
    assert_eq!(v["profiles"], json!({}));
}

#[tokio::test]
async fn decisions_permit_and_every_mvpd_deny() {
    let mut h = H::new().await;
    // No profile: a 200 decisions list whose items carry the error, as the pages show.
    let (s, v) = body(
        h.decide("preauthorize", "Cablevision", &["news", "movies"], None)
            .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["decisions"].as_array().unwrap().len(), 2);
    for (d, r) in v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["news", "movies"])
    {
        assert_eq!(
            (
                d["resource"].as_str(),
                d["authorized"].as_bool(),
                d["error"]["status"].as_i64(),
                d["error"]["code"].as_str(),
                d["error"]["action"].as_str()
            ),
            (
                Some(r),
                Some(false),
                Some(403),
                Some("authenticated_profile_missing"),
                Some("authentication")
            )
        );
        assert!(d.get("token").is_none());
    }
    let (s, v) = body(h.decide("authorize", "Cablevision", &["news"], None).await).await;
    assert_eq!(
        (s, v["decisions"][0]["error"]["code"].as_str()),
        (200, Some("authenticated_profile_missing"))
    );
    // The top-level form stays available as a fault.
    h.emu.inject_fault(
        "/api/v2/REF30/decisions/authorize",
        Fault::TopLevelError {
            code: "authenticated_profile_missing".into(),
        },
        1,
    );
    let (s, v) = body(h.decide("authorize", "Cablevision", &["news"], None).await).await;
    assert_eq!(
        (
            s,
            v["code"].as_str().unwrap(),
            v["action"].as_str().unwrap()
        ),
        (403, "authenticated_profile_missing", "authentication")
    );
    h.login("Cablevision").await;
    h.login("Spectrum").await;

    let (s, v) = body(h.decide("authorize", "Cablevision", &["news"], None).await).await;
    assert_eq!(s, 200);
    let d = &v["decisions"][0];
    assert_eq!(
        (
            d["authorized"].as_bool(),
            d["source"].as_str(),
            d["resource"].as_str()
        ),
        (Some(true), Some("mvpd"), Some("news"))
    );
    assert!(d["token"]["serializedToken"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        d["token"]["notAfter"].as_i64().unwrap() - d["token"]["notBefore"].as_i64().unwrap(),
        600_000
    );
    assert!(d["notAfter"].is_i64());

    for (mvpd, res, code) in [
        (
            "Cablevision",
            "late-night",
            "authorization_denied_by_parental_controls",
        ),
        (
            "Cablevision",
            "unknown-channel",
            "authorization_denied_by_mvpd",
        ),
        (
            "Spectrum",
            "premium",
            "authorization_denied_by_hba_policies",
        ),
    ] {
        let (s, v) = body(h.decide("authorize", mvpd, &[res], None).await).await;
        assert_eq!(s, 200, "a deny is a 200 answer");
        let d = &v["decisions"][0];
        assert_eq!(d["authorized"], false);
        assert_eq!(d["error"]["code"], code);
        assert_eq!(d["error"]["status"], 403);
        assert!(d.get("token").is_none());
    }

    let (_, v) = body(
        h.decide(
            "preauthorize",
            "Cablevision",
            &["news", "sports", "unknown-channel"],
            None,
        )
        .await,
    )
    .await;
    let ds = v["decisions"].as_array().unwrap();
    assert_eq!(ds.len(), 3);
    assert!(ds[0]["authorized"].as_bool().unwrap() && ds[0].get("token").is_none());
    assert_eq!(ds[2]["error"]["code"], "preauthorization_denied_by_mvpd");

    let (s, v) = body(
        h.decide(
            "preauthorize",
            "Cablevision",
            &["a", "b", "c", "d", "e", "f"],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            s,
            v["code"].as_str().unwrap(),
            v["action"].as_str().unwrap()
        ),
        (403, "too_many_resources", "configuration")
    );
    let (s, v) = body(
        h.decide("authorize", "Cablevision", &["a", "b"], None)
            .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (403, "too_many_resources")
    );
    let (s, v) = body(h.decide("authorize", "Cablevision", &[], None).await).await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_parameter_resources")
    );
    let r = h
        .post("/api/v2/REF30/decisions/authorize/Cablevision")
        .header("content-type", "application/json")
        .body("{\"resources\": [")
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_parameter_resources")
    );

    h.emu.advance(Duration::from_secs(30 * 24 * 3600));
    h.token = h.new_token().await;
    let (s, v) = body(h.decide("authorize", "Cablevision", &["news"], None).await).await;
    assert_eq!(
        (s, v["decisions"][0]["error"]["code"].as_str().unwrap()),
        (200, "authenticated_profile_expired")
    );
}

#[tokio::test]
async fn degradation_rules() {
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    let mvpds = &mut config.service_providers[0].mvpds;
    mvpds[0].degradation = Degradation::AuthzNone;
    mvpds[1].degradation = Degradation::AuthnAll;
    let h = H::with(config).await;
    h.login("Cablevision").await;
    let (_, v) = body(h.decide("authorize", "Cablevision", &["news"], None).await).await;
    assert_eq!(
        v["decisions"][0]["error"]["code"],
        "authorization_denied_by_degradation_rule"
    );
    assert_eq!(v["decisions"][0]["source"], "degradation");
    let (_, v) = body(h.decide("authorize", "Spectrum", &["news"], None).await).await;
    assert_eq!(
        (
            v["decisions"][0]["authorized"].as_bool(),
            v["decisions"][0]["source"].as_str()
        ),
        (Some(true), Some("degradation"))
    );
    let (_, v) = body(
        h.form(
            SESSIONS,
            "mvpd=Spectrum&domainName=adobe.com&redirectUrl=https%3A%2F%2Fadobe.com",
        )
        .await,
    )
    .await;
    assert_eq!(v["reasonType"], "degraded");
    let (_, v) = body(
        h.get("/api/v2/REF30/profiles/Spectrum")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["profiles"]["Spectrum"]["type"], "degraded");
}

#[tokio::test]
async fn logout_actions() {
    let h = H::new().await;
    let logout = |mvpd: &str| {
        h.get(&format!(
            "/api/v2/REF30/logout/{mvpd}?redirectUrl=https%3A%2F%2Fadobe.com"
        ))
        .send()
    };
    let (_, v) = body(logout("Cablevision").await.unwrap()).await;
    assert_eq!(v["logouts"]["Cablevision"]["actionName"], "invalid");
    h.login("Cablevision").await;
    h.login("Spectrum").await;
    let (s, v) = body(logout("Cablevision").await.unwrap()).await;
    assert_eq!(s, 200);
    let a = &v["logouts"]["Cablevision"];
    assert_eq!(
        (a["actionName"].as_str(), a["actionType"].as_str()),
        (Some("logout"), Some("interactive"))
    );
    assert!(a["url"]
        .as_str()
        .unwrap()
        .contains("redirect_url=https%3A%2F%2Fadobe.com"));
    let (_, v) = body(logout("Spectrum").await.unwrap()).await;
    assert_eq!(
        v["logouts"]["Spectrum"],
        json!({"actionName": "complete", "actionType": "none", "mvpd": "Spectrum"})
    );
    let (_, v) = body(h.get("/api/v2/REF30/profiles").send().await.unwrap()).await;
    assert_eq!(v["profiles"], json!({}), "logout removed the profiles");
    let (_, v) = body(logout("TempPass_10min").await.unwrap()).await;
    assert_eq!(v["logouts"]["TempPass_10min"]["actionName"], "complete");
    let (s, v) = body(
        h.get("/api/v2/REF30/logout/Cablevision")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (400, "invalid_parameter_redirect_url")
    );
}
