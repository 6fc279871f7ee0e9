//! Every documented deny code becomes its typed reason; nothing secret reaches the logs.

mod common;
use common::Capture;

use std::sync::Arc;
use std::time::Duration;
use tvpass::{
    Decision, DenyReason, DeviceInfo, Environment, MemoryStorage, PassClient, RateLimit, Storage,
    TempPassIdentity,
};
use tvpass_emulator::{Emulator, EmulatorConfig, DEFAULT_SOFTWARE_STATEMENT};

fn client(emu: &Emulator, storage: Arc<MemoryStorage>) -> PassClient {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("TV".into()),
            ..Default::default()
        })
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .storage(storage)
        .build()
        .unwrap()
}

async fn login(emu: &Emulator, c: &PassClient, mvpd: &str) {
    let s = c.create_session(mvpd).await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    c.await_profile(&s).await.unwrap();
}

#[tokio::test]
async fn every_deny_code_maps_to_its_reason() {
    let cases = [
        ("authorization_denied_by_mvpd", DenyReason::DeniedByMvpd),
        (
            "authorization_denied_by_parental_controls",
            DenyReason::ParentalControls,
        ),
        (
            "authorization_denied_by_degradation_rule",
            DenyReason::DegradationRule,
        ),
        (
            "authenticated_profile_invalidated",
            DenyReason::ProfileInvalidated,
        ),
        (
            "authorization_denied_by_hba_policies",
            DenyReason::HbaPolicies,
        ),
        (
            "authorization_denied_by_session_invalidated",
            DenyReason::SessionInvalidated,
        ),
        (
            "identity_not_recognized_by_mvpd",
            DenyReason::IdentityNotRecognized,
        ),
        ("network_received_error", DenyReason::PartnerUnavailable),
        ("network_connection_timeout", DenyReason::PartnerUnavailable),
        (
            "maximum_execution_time_exceeded",
            DenyReason::PartnerUnavailable,
        ),
        (
            "a_code_from_the_future",
            DenyReason::Other("a_code_from_the_future".into()),
        ),
    ];
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    let spectrum = config.service_providers[0]
        .mvpds
        .iter_mut()
        .find(|m| m.id == "Spectrum")
        .unwrap();
    for (code, _) in &cases {
        spectrum.deny.insert(format!("r-{code}"), code.to_string());
    }
    let emu = Emulator::start(config).await.unwrap();
    let c = client(&emu, Arc::new(MemoryStorage::new()));
    login(&emu, &c, "Spectrum").await;
    for (code, want) in cases {
        let before = emu.requests().len();
        match c.authorize("Spectrum", &format!("r-{code}")).await.unwrap() {
            Decision::Deny { reason, error, .. } => {
                assert_eq!(reason, want, "{code}");
                assert_eq!(error.code, code);
                assert!(!error.message.is_empty());
            }
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(
            emu.requests().len() - before,
            1,
            "{code}: a Deny is never retried"
        );
    }
    // The profile survives every Deny: no logout was triggered.
    assert!(c
        .authorize("Spectrum", "anything")
        .await
        .unwrap()
        .is_permit());

    // Expired profile, from the server's clock.
    emu.advance(Duration::from_secs(31 * 24 * 3600));
    match c.authorize("Spectrum", "anything").await.unwrap() {
        Decision::Deny { reason, .. } => assert_eq!(reason, DenyReason::ProfileExpired),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_full_journey_logs_no_secret() {
    let capture = Capture::default();
    let _guard = capture.install();

    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    let emu = Emulator::start(config).await.unwrap();
    let storage = Arc::new(MemoryStorage::new());
    let c = client(&emu, storage.clone());
    login(&emu, &c, "Cablevision").await;
    let profiles = c.profiles().await.unwrap();
    let d = c.authorize("Cablevision", "news").await.unwrap();
    let id = TempPassIdentity::email("secret.viewer@example.com").unwrap();
    let promo = c
        .authorize_temp_pass("TempPass_Promo", "movies", Some(&id))
        .await
        .unwrap();
    emu.inject_fault(
        "/api/v2/REF30/decisions",
        tvpass_emulator::Fault::Status { status: 500 },
        1,
    );
    c.authorize("Cablevision", "news").await.unwrap();
    emu.advance(Duration::from_secs(7 * 3600)); // token refresh path
    c.authorize("Cablevision", "news").await.unwrap();
    for id in emu.client_ids() {
        emu.revoke_client(&id);
    }
    c.authorize("Cablevision", "news").await.unwrap(); // re-registration path
    let err = c.authorize("Nope", "news").await.unwrap_err();

    let mut secrets = vec![
        "secret.viewer@example.com".to_string(),
        c.device_id().expose().to_string(),
    ];
    for k in storage.keys() {
        let v: serde_json::Value =
            serde_json::from_str(&storage.get(&k).unwrap().unwrap()).unwrap();
        for field in ["client_secret", "access_token"] {
            if let Some(s) = v.get(field).and_then(|s| s.as_str()) {
                secrets.push(s.to_string());
            }
        }
    }
    for decision in [&d, &promo] {
        if let Decision::Permit {
            media_token: Some(t),
            ..
        } = decision
        {
            secrets.push(t.serialized.expose().to_string());
        }
    }
    // The user's identifier, a raw user identifier the profile carries.
    for p in &profiles {
        secrets.push(p.attributes["userID"].value.clone());
    }
    assert!(secrets.len() >= 6, "collected {} secrets", secrets.len());
    let logs = capture.text();
    assert!(!logs.is_empty(), "the journey logged something");
    let shown = format!("{logs}\n{d:?}\n{promo:?}\n{err:?}\n{err}\n{c:?}\n{id:?}\n{profiles:?}");
    for s in &secrets {
        assert!(
            !shown.contains(s.as_str()),
            "a secret leaked into logs or Debug output"
        );
    }
}
