//! The code of the Rust guide (docs/rust.md), run against the emulator over HTTP on 127.0.0.1.
//! Each block between `// guide: NAME` and `// end guide` appears in the guide as it is here;
//! scripts/check-guides.py fails when they drift apart.

mod common;
use common::emulator;

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;
use tvpass::http::{HttpRequest, HttpTransport, ReqwestTransport, SendFuture};
use tvpass::{
    Decision, DenyReason, DeviceContext, DeviceInfo, Environment, FileStorage,
    PartnerFrameworkStatus, PassClient, PassService, PlatformIdentity, ProfileType, RateLimit,
    SessionAction, Storage, StorageError, PARTNER_APPLE,
};
use tvpass_emulator::{Emulator, DEFAULT_SOFTWARE_STATEMENT};

/// A builder for the emulator with its default service provider.
fn builder(emu: &Emulator) -> tvpass::PassClientBuilder {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
}

fn state_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tvpass-guide-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn play(_token: &str) {}
fn show(_message: &str, _reason: &DenyReason) {}

#[tokio::test]
async fn the_journey() -> Result<(), Box<dyn Error>> {
    let emu = emulator().await;
    let environment = Environment::Custom(emu.base_url()); // the app: Environment::Production
    let software_statement = DEFAULT_SOFTWARE_STATEMENT;
    let state_dir = state_dir("journey");
    // guide: journey
    let client = PassClient::builder()
        .environment(environment) // Production, Staging, or Custom("https://proxy.example")
        .service_provider("REF30")
        .software_statement(software_statement)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("SetTopBox".into()),
            ..Default::default()
        })
        .storage(Arc::new(FileStorage::new(&state_dir)?)) // or your own `Storage`
        .build()?; // every setting is checked here

    let session = client.create_session("Cablevision").await?; // shows a code
                                                               // end guide
    emu.complete_authentication(session.code.as_deref().unwrap(), Default::default())?;
    // guide: journey-2
    let profile = client.await_profile(&session).await?; // polls every 3 s
    match client.authorize(&profile.mvpd, "news").await? {
        Decision::Permit { media_token, .. } => play(media_token.unwrap().serialized.expose()),
        Decision::Deny { reason, error, .. } => show(&error.message, &reason),
    }
    // end guide
    assert_eq!(
        emu.requests().len(),
        5,
        "register, token, session, one poll, authorize"
    );
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(())
}

#[tokio::test]
async fn errors_and_deny() -> Result<(), Box<dyn Error>> {
    let emu = emulator().await;
    let client = builder(&emu).build()?;
    let mut shown = Vec::new();
    let mut show_message = |m: &str| shown.push(m.to_string());
    let report = |code: Option<tvpass::ErrorCode>, text: &str| panic!("{code:?} {text}");
    // guide: errors
    match client.authorize("Cablevision", "news").await {
        Ok(Decision::Permit { .. }) => { /* play */ }
        Ok(Decision::Deny {
            reason: DenyReason::ProfileMissing,
            ..
        }) => { /* log in first */ }
        Ok(Decision::Deny { error, .. }) => show_message(&error.message), // never retried
        Err(e) if e.is_retryable() => { /* retried already (3 attempts, 30 s): try later */ }
        Err(e) => report(e.error_code(), &e.to_string()), // no secret in the text
    }
    // end guide
    assert!(shown.is_empty());
    Ok(())
}

#[tokio::test]
async fn single_sign_on_with_a_platform_identity() -> Result<(), Box<dyn Error>> {
    let emu = emulator().await;
    let amazon_sso_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJndWlkZSIsImV4cCI6NDAwMDAwMDAwMH0.c2ln";
    let builder = || {
        builder(&emu).rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
    };
    let other_app = builder()
        .device_id("other-app")
        .platform_identity(PlatformIdentity::adobe_subject_token(amazon_sso_token))
        .build()?;
    let s = other_app.create_session("Cablevision").await?;
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())?;
    other_app.await_profile(&s).await?;
    // guide: sso
    let client =
        builder() // PassClient::builder() with the app's settings
            .platform_identity(PlatformIdentity::adobe_subject_token(amazon_sso_token))
            .build()?;
    // One request: the profiles other apps of the same identity created appear.
    let profiles = client.profiles().await?;
    assert_eq!(profiles[0].profile_type, ProfileType::PlatformSso);
    // end guide
    Ok(())
}

#[tokio::test]
async fn partner_single_sign_on() -> Result<(), Box<dyn Error>> {
    let emu = emulator().await;
    let client = builder(&emu).build()?;
    let account_provider_identifier = "Cablevision";
    let expiry_ms = emu.partner_login_expiration_ms();
    // The emulated partner framework: the user is logged in with the provider.
    let ask_the_framework = |request: &str, _attributes: &[String]| {
        std::future::ready(
            emu.partner_login(PARTNER_APPLE, request, Default::default())
                .unwrap(),
        )
    };
    let mut created = None;
    // guide: partner
    // From VideoSubscriberAccount: access granted, the account provider id, the login's expiry.
    let status = PartnerFrameworkStatus::granted(account_provider_identifier, expiry_ms);
    let session = client.partner_session(PARTNER_APPLE, &status).await?;
    match session.action {
        SessionAction::PartnerProfile => {
            let request = session.authentication_request.unwrap(); // to VSAccountMetadataRequest
            let saml = ask_the_framework(&request.request, &request.attribute_names).await;
            let profile = client
                .partner_profile(PARTNER_APPLE, &status, &saml)
                .await?;
            created = profile; // an appleSSO profile, kept like any other
        }
        SessionAction::Authorize => { /* a profile applies already (reason AuthenticatedSso) */ }
        _ => { /* a fallback to the basic flow with session.code (see session.reason) */ }
    }
    // end guide
    assert_eq!(created.unwrap().profile_type, ProfileType::AppleSso);
    Ok(())
}

/// A storage in the app's own key-value store (here a map behind a mutex).
#[derive(Default)]
struct AppStore(std::sync::Mutex<std::collections::HashMap<String, String>>);

// guide: storage
impl Storage for AppStore {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.0.lock().unwrap().insert(key.into(), value.into());
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), StorageError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}
// end guide

/// Counts the requests it passes on to reqwest.
struct Counting {
    inner: ReqwestTransport,
    sent: std::sync::atomic::AtomicUsize,
}

// guide: transport
impl HttpTransport for Counting {
    fn send(&self, request: HttpRequest) -> SendFuture<'_> {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.send(request) // dropping the future must abandon the request
    }
}
// end guide

#[tokio::test]
async fn storage_transport_logs_and_cancellation() -> Result<(), Box<dyn Error>> {
    let emu = emulator().await;
    let transport = Arc::new(Counting {
        inner: ReqwestTransport::new()?,
        sent: Default::default(),
    });
    // guide: logs
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _logs = tracing::subscriber::set_default(subscriber); // or set_global_default
                                                              // end guide
    let client = builder(&emu)
        .storage(Arc::new(AppStore::default()))
        .http_transport(transport.clone())
        .build()?;
    client.configuration().await?;
    assert_eq!(transport.sent.load(std::sync::atomic::Ordering::Relaxed), 3);
    // guide: cancellation
    // Every call is a future: dropping it abandons the request at once, nothing half-written.
    let decision = tokio::time::timeout(
        Duration::from_secs(5),
        client.authorize("Cablevision", "news"),
    )
    .await; // Err(Elapsed) when the user gave up first
            // end guide
    assert!(decision.is_ok());
    Ok(())
}

#[tokio::test]
async fn server_to_server_through_an_outage() -> Result<(), Box<dyn Error>> {
    use std::time::Duration;
    use tvpass::{FailFast, RetryBudget};
    let emu = emulator().await;
    let environment = Environment::Custom(emu.base_url());
    let software_statement = DEFAULT_SOFTWARE_STATEMENT;
    // guide: outage
    let service = PassService::builder()
        .environment(environment)
        .service_provider("REF30")
        .software_statement(software_statement)
        .retry_budget(RetryBudget {
            ratio: 0.1,
            min_per_second: 5.0,
        }) // the defaults
        .fail_fast(FailFast {
            failures: 20,
            cool_down: Duration::from_secs(1),
            ..FailFast::default()
        })
        .build()?;
    if let Some(next_probe) = service.failing_fast() {
        tracing::warn!(
            ?next_probe,
            "Adobe Pass is down; devices are told to come back"
        );
    }
    // end guide
    assert_eq!(service.failing_fast(), None);
    assert_eq!(
        RetryBudget::default(),
        RetryBudget {
            ratio: 0.1,
            min_per_second: 5.0
        }
    );
    assert_eq!(FailFast::default().failures, 20);
    assert_eq!(FailFast::default().cool_down, Duration::from_secs(1));
    Ok(())
}

#[tokio::test]
async fn server_to_server() -> Result<(), Box<dyn Error>> {
    let emu = emulator().await;
    let environment = Environment::Custom(emu.base_url()); // the service: Environment::Production
    let software_statement = DEFAULT_SOFTWARE_STATEMENT;
    // The device's public address, as the service's HTTP server saw its request.
    let ip: std::net::IpAddr = "203.0.113.7".parse()?;
    // guide: service
    let service = PassService::builder()
        .environment(environment)
        .service_provider("REF30")
        .software_statement(software_statement)
        .max_devices(100_000) // device state kept: profiles, Permits, pace (the default)
        .build()?; // once per application and environment; clones share everything

    // For each request of a device: its own id, its IP and port, what it says about itself.
    let device = service.device(
        DeviceContext::new("roku-serial-1234", ip)
            .port(52_000)
            .device_info(DeviceInfo {
                primary_hardware_type: Some("SetTopBox".into()),
                os_name: Some("Roku OS".into()),
                ..Default::default()
            }),
    )?; // a PassClient: every call, sent with X-Forwarded-For and the device's headers
    let session = device.create_session("Cablevision").await?;
    // end guide
    let code = session.code.clone().unwrap_or_default();
    emu.complete_authentication(&code, Default::default())?;
    // guide: service-2
    // A later request of the same device: a new handle finds its cached profile and Permits.
    let device = service.device(DeviceContext::new("roku-serial-1234", ip))?;
    if device.profile_for_code(&code).await?.is_some() {
        match device.authorize("Cablevision", "news").await? {
            Decision::Permit { media_token, .. } => play(media_token.unwrap().serialized.expose()),
            Decision::Deny { reason, error, .. } => show(&error.message, &reason),
        }
    }
    // end guide
    assert_eq!(emu.count("/o/client/register"), 1);
    assert_eq!(
        service
            .device(DeviceContext::new("roku-serial-1234", ip))?
            .cached_profiles()
            .len(),
        1
    );
    Ok(())
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn a_fleet_in_redis() -> Result<(), Box<dyn Error>> {
    let emu = emulator().await;
    let environment = Environment::Custom(emu.base_url());
    let software_statement = DEFAULT_SOFTWARE_STATEMENT;
    // Nothing listens there: the service serves from its own state, as when Redis is down.
    let redis_url = "redis://127.0.0.1:1/0";
    let fleet_key = "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=";
    // guide: fleet
    let service = PassService::builder()
        .environment(environment)
        .service_provider("REF30")
        .software_statement(software_statement)
        .redis(redis_url) // e.g. "rediss://:password@redis.internal:6380/0" (feature `redis`)
        .fleet_key(fleet_key) // 32 bytes in base64: seals the secrets the fleet keeps in Redis
        .fleet_instances(3) // while Redis is away, each instance keeps a third of each pace
        .build()?; // connects on first use; a Redis that cannot answer is never an error
                   // end guide
    let ip: std::net::IpAddr = "203.0.113.8".parse()?;
    let device = service.device(DeviceContext::new("tv-1", ip))?;
    device.create_session("Cablevision").await?;
    assert_eq!(
        service.redis_round_trips(),
        1,
        "one try, then a second of rest"
    );
    Ok(())
}
