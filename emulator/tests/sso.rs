//! Single sign-on endpoints over HTTP: the partner APIs with every documented
//! `AP-Partner-Framework-Status` check, the emulated partner, platform identity and service
//! token profiles, single logout and the SSO configuration fields.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use tvpass_emulator::{Degradation, EmulatorConfig};

const FORM: &str = "domainName=adobe.com&redirectUrl=https%3A%2F%2Fadobe.com";

fn pfs(v: Value) -> String {
    STANDARD.encode(v.to_string())
}

fn granted(id: &str, expires: i64) -> String {
    pfs(json!({
        "frameworkPermissionInfo": {"accessStatus": "granted"},
        "frameworkProviderInfo": {"id": id, "expirationDate": expires.to_string()},
    }))
}

fn jws(sub: &str) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(json!({"sub": sub, "exp": 4_000_000_000i64}).to_string())
    )
}

async fn partner_session(h: &H, status: Option<&str>, form: &str) -> (u16, Value) {
    let mut rb = h
        .post(&format!("/api/v2/{SP}/sessions/sso/Apple"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string());
    if let Some(s) = status {
        rb = rb.header("ap-partner-framework-status", s);
    }
    body(rb.send().await.unwrap()).await
}

async fn partner_profile(h: &H, status: Option<&str>, saml_b64: &str) -> (u16, Value) {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("SAMLResponse", saml_b64)
        .finish();
    let mut rb = h
        .post(&format!("/api/v2/{SP}/profiles/sso/Apple"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form);
    if let Some(s) = status {
        rb = rb.header("ap-partner-framework-status", s);
    }
    body(rb.send().await.unwrap()).await
}

/// The partner flow up to the framework's answer: the Base64 SAML response to send.
async fn saml_for(h: &H, status: &str) -> String {
    let (s, v) = partner_session(h, Some(status), FORM).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["actionName"], "partner_profile");
    let text = h
        .emu
        .partner_login(
            "Apple",
            v["authenticationRequest"]["request"].as_str().unwrap(),
            Default::default(),
        )
        .unwrap();
    STANDARD.encode(text.replace(['\n', '\t'], " "))
}

#[tokio::test]
async fn partner_session_answers_every_documented_shape() {
    let h = H::new().await;
    let now = h.emu.now_ms();
    let ok = granted("Cablevision", now + 86_400_000);

    let (s, v) = partner_session(&h, Some(&ok), FORM).await;
    assert_eq!(s, 200);
    assert_eq!(
        (&v["actionName"], &v["actionType"], &v["reasonType"]),
        (&json!("partner_profile"), &json!("direct"), &json!("none"))
    );
    assert_eq!(v["url"], "/api/v2/REF30/profiles/sso/Apple");
    assert_eq!(v["mvpd"], "Cablevision");
    assert_eq!(v["serviceProvider"], "REF30");
    assert!(v["sessionId"].is_string());
    assert_eq!(v["authenticationRequest"]["type"], "saml");
    let req = STANDARD
        .decode(v["authenticationRequest"]["request"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8(req).unwrap().contains("AuthnRequest"));
    assert!(v.get("code").is_none());

    // Denied, provider info empty: fall back to the basic flow.
    let denied = pfs(
        json!({"frameworkPermissionInfo": {"accessStatus": "denied"}, "frameworkProviderInfo": {}}),
    );
    let (_, v) = partner_session(&h, Some(&denied), &format!("mvpd=Cablevision&{FORM}")).await;
    assert_eq!(v["reasonType"], "pfs_fallback");
    assert_eq!(
        v["actionName"], "resume",
        "the mvpd form parameter is not read here"
    );
    // A missing or undecodable header falls back the same way.
    for bad in [None, Some("not base64 !"), Some("e30=")] {
        let (s, v) = partner_session(&h, bad, FORM).await;
        assert_eq!(
            (s, v["reasonType"].as_str()),
            (200, Some("pfs_fallback")),
            "{bad:?}"
        );
    }
    // Granted but the provider is expired: authenticate with the MVPD preselected.
    let (_, v) = partner_session(&h, Some(&granted("Cablevision", now - 1)), FORM).await;
    assert_eq!(
        (&v["actionName"], &v["actionType"], &v["reasonType"]),
        (
            &json!("authenticate"),
            &json!("interactive"),
            &json!("pfs_fallback")
        )
    );
    let code = v["code"].as_str().unwrap();
    assert_eq!(v["url"], format!("/api/v2/authenticate/REF30/{code}"));
    assert!(v["notBefore"].is_string() && v["notAfter"].is_string());

    // Only in the platform picker: configuration_fallback.
    let (_, v) = partner_session(&h, Some(&granted("spectrum", now + 1000)), FORM).await;
    assert_eq!(
        (&v["actionName"], &v["reasonType"]),
        (&json!("authenticate"), &json!("configuration_fallback"))
    );
    assert_eq!(v["mvpd"], "Spectrum");

    // Missing redirectUrl: resume with missing_parameters_fallback.
    let (_, v) = partner_session(&h, Some(&ok), "domainName=adobe.com").await;
    assert_eq!(
        (&v["actionName"], &v["actionType"], &v["reasonType"]),
        (
            &json!("resume"),
            &json!("direct"),
            &json!("missing_parameters_fallback")
        )
    );
    assert_eq!(v["missingParameters"], json!(["redirectUrl"]));
    assert_eq!(
        v["url"],
        format!("/api/v2/REF30/sessions/{}", v["code"].as_str().unwrap())
    );

    // Unknown partner; partner disabled for the service provider.
    let r = h
        .post(&format!("/api/v2/{SP}/sessions/sso/Samsung"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(FORM)
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("invalid_parameter_partner"))
    );
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    config.service_providers[0].sso_partners.clear();
    let off = H::with(config).await;
    let (_, v) = partner_session(&off, Some(&granted("Cablevision", now + 1000)), FORM).await;
    assert_eq!(v["reasonType"], "configuration_fallback");
}

#[tokio::test]
async fn partner_profile_checks_every_pfs_code_in_order() {
    let h = H::new().await;
    let now = h.emu.now_ms();
    let ok = granted("Cablevision", now + 86_400_000);
    let saml = saml_for(&h, &ok).await;
    let status = |access: &str| {
        pfs(
            json!({"frameworkPermissionInfo": {"accessStatus": access}, "frameworkProviderInfo": {"id": "Cablevision"}}),
        )
    };
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "invalid_header_pfs_permission_access_not_present"),
        (
            Some("%%%".into()),
            "invalid_header_pfs_permission_access_not_present",
        ),
        (
            Some(pfs(json!({"frameworkProviderInfo": {"id": "Cablevision"}}))),
            "invalid_header_pfs_permission_access_not_present",
        ),
        (
            Some(status("notDetermined")),
            "invalid_header_pfs_permission_access_not_determined",
        ),
        (
            Some(status("denied")),
            "invalid_header_pfs_permission_access_not_granted",
        ),
        (
            Some(status("restricted")),
            "invalid_header_pfs_permission_access_not_granted",
        ),
        (
            Some(pfs(
                json!({"frameworkPermissionInfo": {"accessStatus": "granted"}, "frameworkProviderInfo": {}}),
            )),
            "invalid_header_pfs_provider_id_not_determined",
        ),
        (
            Some(granted("Unknown", now + 1000)),
            "invalid_header_pfs_provider_id_not_determined",
        ),
        (
            Some(granted("spectrum", now + 1000)),
            "invalid_header_pfs_provider_id_mismatch",
        ),
        (
            Some(granted("Cablevision", now - 1)),
            "invalid_header_pfs_provider_info_expired",
        ),
    ];
    for (header, code) in cases {
        let (s, v) = partner_profile(&h, header.as_deref(), &saml).await;
        assert_eq!((s, v["code"].as_str()), (400, Some(code)), "{header:?}");
        assert_eq!(v["action"], "none");
    }
    for bad in [
        "",
        "not base64",
        &STANDARD.encode("<samlp:Response ID=\"_nope\"/>"),
    ] {
        let (s, v) = partner_profile(&h, Some(&ok), bad).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("invalid_parameter_saml_response"))
        );
    }

    let (s, v) = partner_profile(&h, Some(&ok), &saml).await;
    assert_eq!(s, 201, "{v}");
    let p = &v["profiles"]["Cablevision"];
    assert_eq!(
        (&p["type"], &p["issuer"]),
        (&json!("appleSSO"), &json!("Apple"))
    );
    assert!(p["notBefore"].is_i64() && p["notAfter"].is_i64());
    assert_eq!(p["attributes"]["userID"]["state"], "plain");
    // Used once.
    let (s, _) = partner_profile(&h, Some(&ok), &saml).await;
    assert_eq!(s, 400);
    // The profile now serves profiles, decisions and a new partner session.
    let (_, v) = body(
        h.get(&format!("/api/v2/{SP}/profiles"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["profiles"]["Cablevision"]["type"], "appleSSO");
    let (_, v) = partner_session(&h, Some(&ok), FORM).await;
    assert_eq!(
        (&v["actionName"], &v["reasonType"]),
        (&json!("authorize"), &json!("authenticatedSSO"))
    );
    let (_, v) = body(h.decide("authorize", "Cablevision", &["news"], None).await).await;
    assert_eq!(v["decisions"][0]["authorized"], true);
    // Logout of a partner profile.
    let (_, v) = body(
        h.get(&format!(
            "/api/v2/{SP}/logout/Cablevision?redirectUrl=https%3A%2F%2Fadobe.com"
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    let l = &v["logouts"]["Cablevision"];
    assert_eq!(
        (&l["actionName"], &l["actionType"]),
        (&json!("partner_logout"), &json!("partner_interactive"))
    );
    assert!(l.get("url").is_none());
}

#[tokio::test]
async fn partner_profile_under_degradation_and_admin_partner_login_over_http() {
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    let h = H::with(config.clone()).await;
    let ok = granted("Cablevision", h.emu.now_ms() + 86_400_000);
    let (_, v) = partner_session(&h, Some(&ok), FORM).await;
    let request = v["authenticationRequest"]["request"].as_str().unwrap();
    let (s, v) = body(
        h.http
            .post(h.url("/__emulator/partners/Apple/login"))
            .json(&json!({"request": request, "attributes": {"zip": "10001"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let text = v["samlResponse"].as_str().unwrap();
    assert!(text.contains("InResponseTo"));
    let (s, v) = partner_profile(&h, Some(&ok), &STANDARD.encode(text)).await;
    assert_eq!(s, 201);
    assert_eq!(
        v["profiles"]["Cablevision"]["attributes"]["zip"]["value"],
        "10001"
    );
    let (s, _) = body(
        h.http
            .post(h.url("/__emulator/partners/Apple/login"))
            .json(&json!({"request": "bm9wZQ=="}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);

    // AuthN-all degradation: a degraded profile with 200.
    config.service_providers[0].mvpds[0].degradation = Degradation::AuthnAll;
    let d = H::with(config).await;
    let (_, v) = partner_session(&d, Some(&ok), FORM).await;
    assert_eq!(
        (&v["actionName"], &v["reasonType"]),
        (&json!("authorize"), &json!("degraded"))
    );
}

#[tokio::test]
async fn platform_and_service_token_profiles_follow_the_identity() {
    let h = H::new().await;
    let token = jws("viewer-9");
    let r = h
        .post(&format!("/api/v2/{SP}/sessions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("adobe-subject-token", &token)
        .header("ad-service-token", jws("svc-9"))
        .body(format!("mvpd=Cablevision&{FORM}"))
        .send()
        .await
        .unwrap();
    let code = body(r).await.1["code"].as_str().unwrap().to_string();
    h.emu
        .complete_authentication(&code, Default::default())
        .unwrap();

    let other = |header: &'static str, value: String| {
        let rb = h
            .http
            .get(h.url(&format!("/api/v2/{SP}/profiles")))
            .bearer_auth(&h.token)
            .header("ap-device-identifier", device_id_header("another-device"))
            .header("x-device-info", device_info())
            .header(header, value);
        async move { body(rb.send().await.unwrap()).await.1 }
    };
    let v = other("adobe-subject-token", token.clone()).await;
    assert_eq!(v["profiles"]["Cablevision"]["type"], "platformSSO");
    assert_eq!(v["profiles"]["Cablevision"]["issuer"], "Cablevision");
    let v = other("x-roku-reserved-roku-connect-token", token.clone()).await;
    assert_eq!(v["profiles"]["Cablevision"]["type"], "platformSSO");
    let v = other("ad-service-token", jws("svc-9")).await;
    assert_eq!(v["profiles"]["Cablevision"]["type"], "serviceTokenSSO");
    let v = other("ad-service-token", jws("someone-else")).await;
    assert_eq!(v["profiles"], json!({}));
    let v = other("adobe-subject-token", "not-a-jwt".into()).await;
    assert_eq!(v["profiles"], json!({}));

    // An MVPD that does not take platform SSO shares nothing.
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    config.service_providers[0].mvpds[0].platform_sso = false;
    let off = H::with(config).await;
    let r = off
        .post(&format!("/api/v2/{SP}/sessions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("adobe-subject-token", &token)
        .body(format!("mvpd=Cablevision&{FORM}"))
        .send()
        .await
        .unwrap();
    let code = body(r).await.1["code"].as_str().unwrap().to_string();
    off.emu
        .complete_authentication(&code, Default::default())
        .unwrap();
    let r = off
        .http
        .get(off.url(&format!("/api/v2/{SP}/profiles")))
        .bearer_auth(&off.token)
        .header("ap-device-identifier", device_id_header("another-device"))
        .header("x-device-info", device_info())
        .header("adobe-subject-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await.1["profiles"], json!({}));
}

#[tokio::test]
async fn configuration_carries_the_platform_fields() {
    let h = H::new().await;
    let (_, v) = body(
        h.get(&format!("/api/v2/{SP}/configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mvpds = v["requestor"]["mvpds"].as_array().unwrap();
    let c = mvpds.iter().find(|m| m["id"] == "Cablevision").unwrap();
    assert_eq!(c["platformMappingId"], "Cablevision");
    assert_eq!(c["boardingStatus"], "SUPPORTED");
    assert_eq!(c["enablePlatformServices"], true);
    assert_eq!(c["displayInPlatformPicker"], true);
    assert_eq!(c["enforcePlatformPermissions"], false);
    let s = mvpds.iter().find(|m| m["id"] == "Spectrum").unwrap();
    assert_eq!(s["boardingStatus"], "PICKER");
    let t = mvpds.iter().find(|m| m["id"] == "TempPass_10min").unwrap();
    assert!(t.get("platformMappingId").is_none());
}
