//! The SDK against the emulator over real HTTP on 127.0.0.1.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass::{
    Decision, DenyReason, DeviceInfo, Environment, LogoutAction, ManagementClient, MemoryStorage,
    PassClient, PassError, RateLimit, ResetTarget, RetryPolicy, SessionAction, SessionReason,
    Storage, TempPassIdentity,
};
use tvpass_emulator::{Emulator, EmulatorConfig, Fault, DEFAULT_SOFTWARE_STATEMENT};

const SP: &str = "REF30";

async fn emulator() -> Emulator {
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = false;
    Emulator::start(c).await.unwrap()
}

fn builder(emu: &Emulator) -> tvpass::PassClientBuilder {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider(SP)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("SetTopBox".into()),
            ..Default::default()
        })
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        })
}

fn client(emu: &Emulator) -> PassClient {
    builder(emu).build().unwrap()
}

async fn login(emu: &Emulator, c: &PassClient, mvpd: &str) {
    let s = c.create_session(mvpd).await.unwrap();
    let code = s.code.clone().unwrap();
    emu.complete_authentication(&code, Default::default())
        .unwrap();
    let p = c.await_profile(&s).await.unwrap();
    assert_eq!(p.mvpd, mvpd);
}

fn reason(d: &Decision) -> Option<&DenyReason> {
    match d {
        Decision::Deny { reason, .. } => Some(reason),
        _ => None,
    }
}

#[tokio::test]
async fn builder_rejects_bad_settings_by_name() {
    let emu = emulator().await;
    let cases: Vec<(tvpass::PassClientBuilder, &str)> = vec![
        (
            PassClient::builder().software_statement("s"),
            "service_provider",
        ),
        (
            builder(&emu).environment(Environment::Custom("http://example.com".into())),
            "environment",
        ),
        (
            builder(&emu).environment(Environment::Custom("ftp://127.0.0.1".into())),
            "environment",
        ),
        (
            builder(&emu).environment(Environment::Custom("not a url".into())),
            "environment",
        ),
        (
            builder(&emu).polling_interval(Duration::from_secs(1)),
            "polling_interval",
        ),
        (
            builder(&emu).retry(RetryPolicy {
                max_attempts: 9,
                ..RetryPolicy::default()
            }),
            "retry.max_attempts",
        ),
        (
            builder(&emu).preauthorize_batch_size(0),
            "preauthorize_batch_size",
        ),
        (
            builder(&emu).device_info(DeviceInfo {
                primary_hardware_type: Some("Toaster".into()),
                ..Default::default()
            }),
            "device_info.primary_hardware_type",
        ),
        (builder(&emu).redirect_url("::"), "redirect_url"),
    ];
    for (b, setting) in cases {
        match b.build() {
            Err(PassError::InvalidConfiguration { setting: s, .. }) => assert_eq!(s, setting),
            other => panic!("{setting}: expected an invalid configuration, got {other:?}"),
        }
    }
    assert!(builder(&emu)
        .environment(Environment::Custom("http://localhost:1".into()))
        .build()
        .is_ok());
    assert!(builder(&emu)
        .environment(Environment::Production)
        .build()
        .is_ok());
}

#[tokio::test]
async fn second_screen_journey_and_deny_reasons() {
    let emu = emulator().await;
    let c = client(&emu);
    let config = c.configuration().await.unwrap();
    assert_eq!(config.mvpds.len(), 4);
    let picker: Vec<_> = config.picker_mvpds().iter().map(|m| m.id.clone()).collect();
    assert_eq!(picker, ["Cablevision", "Spectrum"]);
    c.configuration().await.unwrap();
    assert_eq!(
        emu.count("/api/v2/REF30/configuration"),
        1,
        "configuration is cached"
    );

    let d = c.authorize("Cablevision", "news").await.unwrap();
    assert_eq!(
        reason(&d),
        Some(&DenyReason::ProfileMissing),
        "a missing profile is a Deny, not an error"
    );

    let s = c.create_session("Cablevision").await.unwrap();
    assert_eq!(s.action, SessionAction::Authenticate);
    let code = s.code.clone().unwrap();
    assert!(s.not_after_ms.unwrap() > s.not_before_ms.unwrap());
    assert_eq!(s.url.as_deref(), Some(c.authentication_url(&code).as_str()));
    let mut attrs = serde_json::Map::new();
    attrs.insert("zip".into(), "10001".into());
    emu.complete_authentication(&code, attrs).unwrap();
    let p = c.await_profile(&s).await.unwrap();
    assert_eq!(p.attributes["zip"].value, "10001");
    assert_eq!(c.profiles().await.unwrap().len(), 1);
    assert_eq!(
        emu.count("/api/v2/REF30/profiles"),
        1,
        "profiles served from the cache after the poll"
    );

    match c.authorize("Cablevision", "news").await.unwrap() {
        Decision::Permit {
            media_token: Some(t),
            ..
        } => {
            assert!(!t.serialized.expose().is_empty());
            assert!(
                !format!("{t:?}").contains(t.serialized.expose()),
                "media token hidden from Debug"
            );
        }
        other => panic!("{other:?}"),
    }
    login(&emu, &c, "Spectrum").await;
    for (mvpd, res, want) in [
        ("Cablevision", "late-night", DenyReason::ParentalControls),
        ("Cablevision", "cooking", DenyReason::DeniedByMvpd),
        ("Spectrum", "premium", DenyReason::HbaPolicies),
    ] {
        let d = c.authorize(mvpd, res).await.unwrap();
        assert_eq!(reason(&d), Some(&want), "{res}");
        if let Decision::Deny { error, .. } = &d {
            assert!(!error.message.is_empty() && error.trace.is_some());
        }
    }
    // A session for an MVPD with a profile needs no login.
    let again = c.create_session("Cablevision").await.unwrap();
    assert_eq!(
        (again.action, again.reason),
        (SessionAction::Authorize, SessionReason::Authenticated)
    );

    // Preauthorize 12 resources: batches of 5, in order, Permits cached.
    let res: Vec<String> = (0..12)
        .map(|i| {
            if i % 3 == 0 {
                format!("nope{i}")
            } else {
                ["news", "sports", "movies", "kids"][i % 4].to_string()
            }
        })
        .collect();
    let refs: Vec<&str> = res.iter().map(String::as_str).collect();
    let before = emu.count("/api/v2/REF30/decisions/preauthorize");
    let ds = c.preauthorize("Cablevision", &refs).await.unwrap();
    let mut unique = refs.clone();
    unique.dedup();
    let uniq: Vec<&str> = refs.iter().fold(Vec::new(), |mut v, r| {
        if !v.contains(r) {
            v.push(*r)
        }
        v
    });
    assert_eq!(ds.iter().map(|d| d.resource()).collect::<Vec<_>>(), uniq);
    assert_eq!(
        emu.count("/api/v2/REF30/decisions/preauthorize") - before,
        uniq.len().div_ceil(5)
    );
    assert!(ds
        .iter()
        .filter(|d| d.resource().starts_with("nope"))
        .all(|d| reason(d) == Some(&DenyReason::PreauthorizationDeniedByMvpd)));
    let permits: Vec<&str> = ds
        .iter()
        .filter(|d| d.is_permit())
        .map(|d| d.resource())
        .collect();
    let again = c.preauthorize("Cablevision", &permits).await.unwrap();
    assert!(again.iter().all(Decision::is_permit));
    assert_eq!(
        emu.count("/api/v2/REF30/decisions/preauthorize") - before,
        uniq.len().div_ceil(5),
        "cached Permits ask nothing"
    );

    // Logout.
    match c.logout("Cablevision").await.unwrap() {
        LogoutAction::OpenUrl { url } => assert!(url.contains("logout")),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.logout("Spectrum").await.unwrap(), LogoutAction::Complete);
    assert_eq!(
        reason(&c.authorize("Cablevision", "news").await.unwrap()),
        Some(&DenyReason::ProfileMissing)
    );
    assert!(c.profiles().await.unwrap().is_empty());
}

#[tokio::test]
async fn too_many_resources_is_an_error_not_a_deny() {
    let emu = emulator().await;
    let c = builder(&emu).preauthorize_batch_size(8).build().unwrap();
    login(&emu, &c, "Cablevision").await;
    let err = c
        .preauthorize("Cablevision", &["a", "b", "c", "d", "e", "f"])
        .await
        .unwrap_err();
    assert_eq!(err.enhanced().unwrap().code, "too_many_resources");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn temppass_basic_and_promotional_with_expiry() {
    let emu = emulator().await;
    let c = client(&emu);
    let s = c.create_session("TempPass_10min").await.unwrap();
    assert_eq!(
        (s.action, s.reason),
        (SessionAction::Authorize, SessionReason::Temporary)
    );
    assert!(c
        .authorize_temp_pass("TempPass_10min", "movies", None)
        .await
        .unwrap()
        .is_permit());
    let info = c
        .temp_pass_info("TempPass_10min", None)
        .await
        .unwrap()
        .unwrap();
    assert!(info.expiration_ms.is_some());
    emu.advance(Duration::from_secs(601));
    let d = c
        .authorize_temp_pass("TempPass_10min", "movies", None)
        .await
        .unwrap();
    assert_eq!(reason(&d), Some(&DenyReason::TempPassDurationExceeded));

    let id = TempPassIdentity::email("  User@Domain.com ").unwrap();
    assert_eq!(
        id.hash(),
        "f7ee5ec7312165148b69fcca1d29075b14b8aef0b5048a332b18b88d09069fb7"
    );
    assert!(!format!("{id:?}").contains(id.hash()));
    for r in ["a", "b", "c"] {
        assert!(
            c.authorize_temp_pass("TempPass_Promo", r, Some(&id))
                .await
                .unwrap()
                .is_permit(),
            "{r}"
        );
    }
    let info = c.temp_pass_info("TempPass_Promo", Some(&id)).await;
    assert_eq!(
        info.unwrap_err().enhanced().unwrap().code,
        "temporary_access_resources_limit_exceeded"
    );
    let d = c
        .authorize_temp_pass("TempPass_Promo", "d", Some(&id))
        .await
        .unwrap();
    assert_eq!(reason(&d), Some(&DenyReason::TempPassResourcesExceeded));
    let d = c
        .authorize_temp_pass("TempPass_Promo", "d", None)
        .await
        .unwrap();
    assert_eq!(reason(&d), Some(&DenyReason::TempPassIdentityInvalid));

    // Reset by identity with the management client, then the trial starts over.
    let m = ManagementClient::new(
        Environment::Custom(emu.base_url()),
        DEFAULT_SOFTWARE_STATEMENT,
        None,
    )
    .unwrap();
    m.reset(
        SP,
        "TempPass_Promo",
        ResetTarget::Identity(id.hash().into()),
    )
    .await
    .unwrap();
    let promo = c
        .authorize_temp_pass("TempPass_Promo", "d", Some(&id))
        .await
        .unwrap();
    assert!(promo.is_permit());
    m.reset(
        SP,
        "TempPass_10min",
        ResetTarget::Device(c.device_id().expose().into()),
    )
    .await
    .unwrap();
    assert!(c
        .authorize_temp_pass("TempPass_10min", "movies", None)
        .await
        .unwrap()
        .is_permit());
    m.reset(SP, "TempPass_10min", ResetTarget::AllDevices)
        .await
        .unwrap();
    m.reset(SP, "TempPass_Promo", ResetTarget::AllIdentities)
        .await
        .unwrap();
    let err = m
        .reset(SP, "Cablevision", ResetTarget::AllDevices)
        .await
        .unwrap_err();
    assert!(matches!(err, PassError::Server { status: 400, .. }));

    // The raw identifier never reaches the service.
    for r in emu.requests() {
        let text = format!("{:?} {} {:?}", r.headers, r.body, r.query);
        assert!(!text.to_lowercase().contains("user@domain.com"));
    }
}

#[tokio::test]
async fn single_flight_registration_for_100_concurrent_cold_calls() {
    let emu = emulator().await;
    let c = client(&emu);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let c = c.clone();
        tasks.push(tokio::spawn(
            async move { c.configuration().await.map(|_| ()) },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(emu.count("/o/client/register"), 1);
    assert_eq!(emu.count("/o/client/token"), 1);
}

#[tokio::test]
async fn restart_with_the_same_storage_makes_no_dcr_calls() {
    let emu = emulator().await;
    let storage: Arc<MemoryStorage> = Arc::new(MemoryStorage::new());
    let c = builder(&emu).storage(storage.clone()).build().unwrap();
    login(&emu, &c, "Cablevision").await;
    let device = c.device_id().expose().to_string();
    drop(c);
    emu.clear_requests();
    let c2 = builder(&emu).storage(storage.clone()).build().unwrap();
    assert_eq!(
        c2.device_id().expose(),
        device,
        "generated device id persisted"
    );
    assert!(c2
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());
    assert_eq!(
        c2.profiles().await.unwrap().len(),
        1,
        "profile from storage"
    );
    assert_eq!(emu.requests().len(), 1, "warm restart: one request");
    assert_eq!(emu.count("/o/client"), 0);
}

#[tokio::test]
async fn corrupt_storage_means_starting_over_quietly() {
    let emu = emulator().await;
    let storage = Arc::new(MemoryStorage::new());
    let c = builder(&emu).storage(storage.clone()).build().unwrap();
    c.configuration().await.unwrap();
    for k in storage.keys() {
        storage.set(&k, "{not json").unwrap();
    }
    let c2 = builder(&emu).storage(storage.clone()).build().unwrap();
    assert!(c2.authorize("Cablevision", "news").await.is_ok());
    assert_eq!(emu.count("/o/client/register"), 2);
}

#[tokio::test]
async fn recovers_from_401_and_from_a_revoked_client_once() {
    let emu = emulator().await;
    let c = client(&emu);
    c.configuration().await.unwrap();
    // The server's clock passes the token's life: one 401, one token request, one retry.
    emu.advance(Duration::from_secs(6 * 3600 + 1));
    emu.clear_requests();
    login(&emu, &c, "Cablevision").await;
    assert_eq!(emu.count("/o/client/token"), 1);
    assert_eq!(emu.count("/o/client/register"), 0);
    // A revoked client registers again once.
    for id in emu.client_ids() {
        emu.revoke_client(&id);
    }
    emu.clear_requests();
    assert!(c.authorize("Cablevision", "news").await.is_ok());
    assert_eq!(emu.count("/o/client/register"), 1);
    assert_eq!(emu.count("/o/client/token"), 1);
    assert_eq!(
        emu.count("/api/v2/"),
        2,
        "the refused call and its one retry"
    );
}

#[tokio::test]
async fn retries_are_bounded() {
    let emu = emulator().await;
    let c = client(&emu);
    login(&emu, &c, "Cablevision").await;
    let path = "/api/v2/REF30/decisions/authorize";
    emu.inject_fault(path, Fault::Status { status: 500 }, 2);
    emu.clear_requests();
    assert!(c
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());
    assert_eq!(emu.count(path), 3, "two 500s then success");
    emu.inject_fault(path, Fault::Status { status: 500 }, 5);
    emu.clear_requests();
    let err = c.authorize("Cablevision", "news").await.unwrap_err();
    assert!(matches!(err, PassError::Server { status: 500, .. }) && err.is_retryable());
    assert_eq!(emu.count(path), 3, "an error after exactly 3");
    emu.clear_faults();
    // 4xx validation errors are not retried.
    emu.clear_requests();
    let err = c.authorize("Nope", "news").await.unwrap_err();
    assert_eq!(err.enhanced().unwrap().code, "invalid_integration");
    assert_eq!(emu.count(path), 1);
}

#[tokio::test]
async fn no_request_within_a_second_after_a_429() {
    let emu = emulator().await;
    let c = client(&emu);
    login(&emu, &c, "Cablevision").await;
    let path = "/api/v2/REF30/decisions/authorize";
    emu.inject_fault(path, Fault::Throttle, 1);
    emu.clear_requests();
    assert!(c
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());
    let log = emu.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].status, 429);
    assert!(
        log[1].time_ms - log[0].time_ms >= 1000,
        "waited {} ms",
        log[1].time_ms - log[0].time_ms
    );
}

#[tokio::test]
async fn polling_stops_on_cancellation_replacement_and_expiry() {
    let emu = emulator().await;
    let c = client(&emu);
    let s = c.create_session("Cablevision").await.unwrap();
    let polling = {
        let (c, s) = (c.clone(), s.clone());
        tokio::spawn(async move { c.await_profile(&s).await })
    };
    // The first poll goes out at once: wait for the emulator to answer it, then cancel.
    until(|| emu.count("/api/v2/REF30/profiles/code") >= 1).await;
    polling.abort();
    let _ = polling.await;
    let polls = emu.count("/api/v2/REF30/profiles/code");
    // The next poll would come 3 s later: none comes in 3.5 s. (A wait for something that must
    // not happen; a slow machine can only make it pass more easily, never fail.)
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        emu.count("/api/v2/REF30/profiles/code"),
        polls,
        "no poll after cancellation"
    );
    assert_eq!(polls, 1);

    // A newer session replaces the polled one.
    let polling = {
        let (c, s) = (c.clone(), s.clone());
        tokio::spawn(async move { c.await_profile(&s).await })
    };
    until(|| emu.count("/api/v2/REF30/profiles/code") > polls).await;
    c.create_session("Spectrum").await.unwrap();
    let t = Instant::now();
    assert!(matches!(
        polling.await.unwrap(),
        Err(PassError::SessionReplaced)
    ));
    assert!(t.elapsed() < Duration::from_secs(4));

    // The session expires (server clock) while polling.
    let s = c.create_session("Cablevision").await.unwrap();
    emu.advance(Duration::from_secs(1801));
    assert!(matches!(
        c.await_profile(&s).await,
        Err(PassError::AuthenticationExpired)
    ));
}

#[tokio::test]
async fn secrets_stay_out_of_requests_debug_and_errors() {
    let emu = emulator().await;
    let storage = Arc::new(MemoryStorage::new());
    let c = builder(&emu).storage(storage.clone()).build().unwrap();
    login(&emu, &c, "Cablevision").await;
    let secret = storage
        .keys()
        .into_iter()
        .find(|k| k.ends_with("credentials"))
        .and_then(|k| storage.get(&k).unwrap())
        .map(|v| {
            serde_json::from_str::<serde_json::Value>(&v).unwrap()["client_secret"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .unwrap();
    for r in emu.requests() {
        if r.path != "/o/client/token" {
            assert!(
                !r.body.contains(&secret) && !format!("{:?}", r.headers).contains(&secret),
                "{}",
                r.path
            );
        }
    }
    assert!(!format!("{c:?}").contains(&secret));
    let d = c.authorize("Cablevision", "news").await.unwrap();
    if let Decision::Permit {
        media_token: Some(t),
        ..
    } = &d
    {
        assert!(!format!("{d:?}").contains(t.serialized.expose()));
    }
}

#[tokio::test]
async fn bad_answers_become_typed_errors() {
    let emu = emulator().await;
    let c = builder(&emu).max_response_bytes(64 * 1024).build().unwrap();
    login(&emu, &c, "Cablevision").await;
    let path = "/api/v2/REF30/decisions/authorize";
    emu.inject_fault(path, Fault::InvalidJson, 1);
    assert!(matches!(
        c.authorize("Cablevision", "news").await,
        Err(PassError::Protocol(_))
    ));
    emu.inject_fault(path, Fault::Oversized { bytes: 2_000_000 }, 1);
    assert!(matches!(
        c.authorize("Cablevision", "news").await,
        Err(PassError::Protocol(_))
    ));
    emu.inject_fault(path, Fault::Html { status: 200 }, 1);
    assert!(matches!(
        c.authorize("Cablevision", "news").await,
        Err(PassError::Protocol(_))
    ));
    emu.inject_fault(path, Fault::Drop, 1);
    assert!(
        c.authorize("Cablevision", "news")
            .await
            .unwrap()
            .is_permit(),
        "a dropped connection is retried"
    );
    assert!(matches!(
        c.authorize("", "news").await,
        Err(PassError::InvalidConfiguration {
            setting: "mvpd",
            ..
        })
    ));
}

/// Waits until `condition` holds, checking every 10 ms, for up to 30 s.
async fn until(condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the condition never held"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
