//! Every bound the SDK enforces, each at the bound, one step inside and one step outside (the
//! list is in docs/rust.md, "Limits", and docs/server.md). The emulator answers over real HTTP
//! on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::time::Duration;
use tvpass::{
    DeviceContext, DeviceInfo, Environment, MemoryStorage, PartnerFrameworkStatus, PassClient,
    PassClientBuilder, PassError, PassService, RateLimit, RetryPolicy, Storage, MAX_DEVICE_INFO,
    MAX_ID_BYTES, MAX_PERMITS, MAX_PROFILES, PARTNER_APPLE,
};
use tvpass_emulator::{Emulator, EmulatorConfig, Fault, DEFAULT_SOFTWARE_STATEMENT};

const MVPD: &str = "Cablevision";
const FAR: i64 = 4_000_000_000_000;

fn builder(emu: &Emulator) -> PassClientBuilder {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .storage_namespace("limits")
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
}

/// A builder against nothing: for checks made before any request.
fn offline() -> PassClientBuilder {
    PassClient::builder()
        .environment(Environment::Custom("http://127.0.0.1:9".into()))
        .service_provider("REF30")
        .software_statement("statement")
}

fn refused(result: Result<impl Sized, PassError>, setting: &str) -> bool {
    matches!(result, Err(PassError::InvalidConfiguration { setting: s, .. }) if s == setting)
}

fn storage_with(values: &[(&str, String)]) -> Arc<MemoryStorage> {
    let storage = Arc::new(MemoryStorage::new());
    for (name, value) in values {
        storage
            .set(&format!("tvpass.REF30.limits.{name}"), value)
            .unwrap();
    }
    storage
}

// ---- answers: max_response_bytes ----

#[tokio::test]
async fn an_answer_is_read_up_to_max_response_bytes_and_refused_past_it() {
    let emu = common::emulator().await;
    let limit = 8192;
    let c = builder(&emu)
        .max_response_bytes(limit)
        .configuration_ttl(Duration::ZERO)
        .build()
        .unwrap();
    c.configuration().await.unwrap();
    for (bytes, too_large) in [(limit - 1, false), (limit, false), (limit + 1, true)] {
        emu.inject_fault("/api/v2/REF30/configuration", Fault::Oversized { bytes }, 1);
        let err = c.configuration().await.unwrap_err();
        // Read in full, the padding is no configuration: a protocol error about its content.
        let says_too_large = matches!(&err, PassError::Protocol(m) if m.contains("larger than"));
        assert_eq!(says_too_large, too_large, "{bytes} bytes: {err:?}");
    }
}

// ---- identifiers: MAX_ID_BYTES (resources: MAX_RESOURCE_BYTES, tests/resources.rs) ----

#[tokio::test]
async fn identifiers_are_taken_up_to_max_id_bytes() {
    let emu = common::emulator().await;
    let c = builder(&emu).build().unwrap();
    for n in [MAX_ID_BYTES - 1, MAX_ID_BYTES, MAX_ID_BYTES + 1] {
        let id = "d".repeat(n);
        let over = n > MAX_ID_BYTES;
        assert_eq!(
            refused(offline().device_id(id.clone()).build(), "device_id"),
            over,
            "{n}"
        );
        let mvpd = "m".repeat(n);
        let before = emu.count("/api/v2/REF30/decisions");
        let result = c.authorize(&mvpd, "news").await;
        assert_eq!(refused(result, "mvpd"), over, "{n}");
        // Refused before any request; taken, it reaches the service.
        assert_eq!(
            emu.count("/api/v2/REF30/decisions") - before,
            usize::from(!over),
            "{n}"
        );
    }
}

#[test]
fn a_device_id_read_back_from_storage_is_used_up_to_max_id_bytes_and_replaced_past_it() {
    for n in [MAX_ID_BYTES - 1, MAX_ID_BYTES, MAX_ID_BYTES + 1] {
        let stored = "s".repeat(n);
        let storage = storage_with(&[("device_id", format!("\"{stored}\""))]);
        let c = offline()
            .storage_namespace("limits")
            .storage(storage)
            .build()
            .unwrap();
        let id = c.device_id().expose();
        assert_eq!(id == stored, n <= MAX_ID_BYTES, "{n}");
        assert!(id.len() <= MAX_ID_BYTES);
    }
}

#[test]
fn a_device_id_with_a_control_character_in_storage_is_replaced() {
    let storage = storage_with(&[("device_id", "\"dev\\u0000ice\"".into())]);
    let c = offline()
        .storage_namespace("limits")
        .storage(storage.clone())
        .build()
        .unwrap();
    assert!(!c.device_id().expose().contains('\0'));
    // The replacement is kept.
    let again = offline()
        .storage_namespace("limits")
        .storage(storage)
        .build()
        .unwrap();
    assert_eq!(again.device_id().expose(), c.device_id().expose());
}

#[test]
fn a_service_takes_device_ids_up_to_max_id_bytes() {
    let svc = PassService::builder()
        .environment(Environment::Custom("http://127.0.0.1:9".into()))
        .service_provider("REF30")
        .software_statement("statement")
        .build()
        .unwrap();
    for n in [MAX_ID_BYTES - 1, MAX_ID_BYTES, MAX_ID_BYTES + 1] {
        let device = DeviceContext::new("i".repeat(n), "203.0.113.7".parse().unwrap());
        assert_eq!(
            refused(svc.device(device), "device_id"),
            n > MAX_ID_BYTES,
            "{n}"
        );
    }
}

// ---- X-Device-Info: MAX_DEVICE_INFO ----

/// Device information whose header value is `len` bytes (a multiple of 4: base64).
fn info_of(len: usize) -> DeviceInfo {
    let empty = DeviceInfo {
        model: Some(String::new()),
        ..DeviceInfo::default()
    };
    let base = serde_json::to_vec(&empty).unwrap().len();
    let info = DeviceInfo {
        model: Some("m".repeat(len / 4 * 3 - base)),
        ..DeviceInfo::default()
    };
    assert_eq!(info.header_value().len(), len);
    info
}

#[test]
fn device_information_is_taken_up_to_max_device_info() {
    // Base64 comes in steps of 4 bytes: one step inside is 4 bytes under.
    for (len, over) in [
        (MAX_DEVICE_INFO - 4, false),
        (MAX_DEVICE_INFO, false),
        (MAX_DEVICE_INFO + 4, true),
    ] {
        let info = info_of(len);
        let header = info.header_value();
        assert_eq!(
            refused(DeviceInfo::from_header_value(&header), "device_info"),
            over,
            "{len}"
        );
        assert_eq!(
            refused(offline().device_info(info).build(), "device_info"),
            over,
            "{len}"
        );
    }
    // One byte over is refused for its size before it is decoded.
    let err = DeviceInfo::from_header_value(&"A".repeat(MAX_DEVICE_INFO + 1)).unwrap_err();
    assert!(err.to_string().contains("8 KiB"), "{err}");
}

// ---- single sign-on header values: 16 KiB ----

#[test]
fn single_sign_on_values_are_taken_up_to_16_kib() {
    for n in [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1] {
        let over = n > 16 * 1024;
        let token = "t".repeat(n);
        assert_eq!(
            refused(
                offline().service_token(token.clone()).build(),
                "service_token"
            ),
            over,
            "{n}"
        );
        let c = offline().build().unwrap();
        assert_eq!(
            refused(c.set_service_token(Some(&token)), "service_token"),
            over
        );
    }
}

// ---- the partner framework's SAML response: 256 KiB ----

#[tokio::test]
async fn a_saml_response_is_sent_up_to_256_kib() {
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    config.max_body_bytes = 1024 * 1024;
    let emu = Emulator::start(config).await.unwrap();
    let c = builder(&emu).build().unwrap();
    let status = PartnerFrameworkStatus::granted(MVPD, emu.now_ms() + 86_400_000);
    for n in [256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1] {
        let over = n > 256 * 1024;
        let before = emu.count("/api/v2/REF30/profiles/sso");
        let result = c
            .partner_profile(PARTNER_APPLE, &status, &"s".repeat(n))
            .await;
        assert_eq!(refused(result, "saml_response"), over, "{n}");
        assert_eq!(
            emu.count("/api/v2/REF30/profiles/sso") - before,
            usize::from(!over)
        );
    }
}

// ---- what a device keeps: MAX_PROFILES, MAX_PERMITS ----

fn profile_json(mvpd: &str, not_after_ms: i64) -> serde_json::Value {
    serde_json::json!({
        "mvpd": mvpd, "not_before_ms": 1, "not_after_ms": not_after_ms, "issuer": mvpd,
        "profile_type": "Regular", "attributes": {}, "temp_pass": null
    })
}

#[test]
fn a_device_keeps_at_most_max_profiles_those_valid_longest() {
    for n in [MAX_PROFILES - 1, MAX_PROFILES, MAX_PROFILES + 1] {
        let profiles: Vec<_> = (0..n)
            .map(|i| profile_json(&format!("mvpd-{i}"), FAR + i as i64))
            .collect();
        let storage = storage_with(&[("profiles", serde_json::to_string(&profiles).unwrap())]);
        let c = offline()
            .storage_namespace("limits")
            .storage(storage)
            .build()
            .unwrap();
        let kept = c.cached_profiles();
        assert_eq!(kept.len(), n.min(MAX_PROFILES), "{n}");
        // Past the bound, the profile that ends first goes.
        assert_eq!(kept.iter().any(|p| p.mvpd == "mvpd-0"), n <= MAX_PROFILES);
    }
}

#[tokio::test]
async fn a_device_keeps_at_most_max_permits() {
    let emu = common::emulator().await;
    for n in [MAX_PERMITS - 1, MAX_PERMITS, MAX_PERMITS + 1] {
        let c = builder(&emu)
            .preauthorize_batch_size(5)
            .preauthorize_concurrency(16)
            .build()
            .unwrap();
        let s = c.create_session("Spectrum").await.unwrap();
        emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
            .unwrap();
        c.profiles().await.unwrap();
        let names: Vec<String> = (0..n).map(|i| format!("channel-{i}")).collect();
        let resources: Vec<&str> = names.iter().map(String::as_str).collect();
        let first = c.preauthorize("Spectrum", &resources).await.unwrap();
        assert_eq!(first.len(), n);
        assert!(first.iter().all(|d| d.is_permit()));
        // Asked again, the kept Permits answer; only what was dropped is asked for.
        let before = emu.count("/api/v2/REF30/decisions/preauthorize");
        let again = c.preauthorize("Spectrum", &resources).await.unwrap();
        assert!(again.iter().all(|d| d.is_permit()));
        let asked = emu.count("/api/v2/REF30/decisions/preauthorize") - before;
        assert_eq!(asked, usize::from(n > MAX_PERMITS), "{n}");
    }
}

// ---- what storage and the service give for the token ----

fn stored_token(storage: &MemoryStorage) -> serde_json::Value {
    let text = storage.get("tvpass.REF30.limits.token").unwrap().unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_token_lifetime_is_taken_up_to_a_week() {
    const WEEK: u64 = 7 * 24 * 3600;
    for (expires_in, taken) in [
        (WEEK - 1, WEEK - 1),
        (WEEK, WEEK),
        (WEEK + 1, WEEK),
        (u64::MAX, WEEK),
    ] {
        let emu = common::emulator().await;
        // A token the service knows, handed out by the fault with the lifetime under test.
        let other = Arc::new(MemoryStorage::new());
        builder(&emu)
            .storage(other.clone())
            .build()
            .unwrap()
            .configuration()
            .await
            .unwrap();
        let known = stored_token(&other)["access_token"].clone();
        let storage = Arc::new(MemoryStorage::new());
        let c = builder(&emu).storage(storage.clone()).build().unwrap();
        let body = serde_json::json!({
            "access_token": known, "expires_in": expires_in, "token_type": "bearer"
        });
        emu.inject_fault(
            "/o/client/token",
            Fault::Json {
                status: 200,
                body: body.to_string(),
            },
            1,
        );
        let start = tvpass_now();
        c.configuration().await.unwrap();
        let until = stored_token(&storage)["expires_at_ms"].as_i64().unwrap();
        let lifetime = (until - start) / 1000;
        assert!(
            (taken as i64 - 2..=taken as i64 + 2).contains(&lifetime),
            "expires_in {expires_in}: kept {lifetime} s"
        );
    }
}

fn tvpass_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn a_stored_token_is_used_up_to_16_kib_of_printable_text() {
    for (token, used) in [
        ("a".repeat(16 * 1024 - 1), true),
        ("a".repeat(16 * 1024), true),
        ("a".repeat(16 * 1024 + 1), false),
        ("not a header value".to_string(), false),
    ] {
        let emu = common::emulator().await;
        let storage = storage_with(&[(
            "token",
            serde_json::json!({ "access_token": token, "expires_at_ms": FAR }).to_string(),
        )]);
        let c = builder(&emu).storage(storage).build().unwrap();
        c.configuration().await.unwrap();
        // A stored token in use is sent first: the service refuses it (401) and the SDK fetches
        // one; one that cannot be used is never sent.
        assert_eq!(
            emu.count("/api/v2/REF30/configuration"),
            if used { 2 } else { 1 },
            "a {}-byte token",
            token.len()
        );
        assert_eq!(emu.count("/o/client/token"), 1);
    }
}

// ---- deadlines and other settings: each bound, inside and outside ----

#[test]
fn settings_are_taken_within_their_bounds() {
    let ms = Duration::from_millis;
    let s = Duration::from_secs;
    type Set = fn(PassClientBuilder, Duration) -> PassClientBuilder;
    let durations: [(&str, Set, Duration, Duration, Duration); 4] = [
        (
            "retry.deadline",
            |b, d| {
                b.retry(RetryPolicy {
                    deadline: d,
                    ..RetryPolicy::default()
                })
            },
            s(1),
            s(300),
            ms(1),
        ),
        (
            "request_timeout",
            |b, d| b.request_timeout(d),
            ms(100),
            s(120),
            ms(1),
        ),
        (
            "polling_interval",
            |b, d| b.polling_interval(d),
            s(3),
            s(5),
            ms(1),
        ),
        (
            "configuration_ttl",
            |b, d| b.configuration_ttl(d),
            s(0),
            s(300),
            ms(1),
        ),
    ];
    for (setting, set, low, high, step) in durations {
        let ok = |d| set(offline(), d).build().is_ok();
        assert!(
            ok(low) && ok(high) && ok(low + step) && ok(high - step),
            "{setting}"
        );
        assert!(
            low.is_zero() || refused(set(offline(), low - step).build(), setting),
            "{setting}"
        );
        assert!(
            refused(set(offline(), high + step).build(), setting),
            "{setting}"
        );
    }
    type SetN = fn(PassClientBuilder, usize) -> PassClientBuilder;
    let counts: [(&str, SetN, usize, usize); 4] = [
        (
            "retry.max_attempts",
            |b, n| {
                b.retry(RetryPolicy {
                    max_attempts: n as u32,
                    ..RetryPolicy::default()
                })
            },
            1,
            5,
        ),
        (
            "preauthorize_batch_size",
            |b, n| b.preauthorize_batch_size(n),
            1,
            50,
        ),
        (
            "preauthorize_concurrency",
            |b, n| b.preauthorize_concurrency(n),
            1,
            16,
        ),
        (
            "max_response_bytes",
            |b, n| b.max_response_bytes(n),
            4096,
            usize::MAX,
        ),
    ];
    for (setting, set, low, high) in counts {
        let ok = |n| set(offline(), n).build().is_ok();
        assert!(
            ok(low) && ok(low + 1) && ok(high) && ok(high - 1),
            "{setting}"
        );
        assert!(
            refused(set(offline(), low - 1).build(), setting),
            "{setting}"
        );
        if high < usize::MAX {
            assert!(
                refused(set(offline(), high + 1).build(), setting),
                "{setting}"
            );
        }
    }
}

#[test]
fn connection_age_is_taken_from_1_to_30_s() {
    let age = |d| {
        tvpass::ReqwestTransport::builder()
            .connection_max_age(d)
            .build()
    };
    let ms = Duration::from_millis;
    for (d, ok) in [
        (ms(999), false),
        (ms(1000), true),
        (ms(1001), true),
        (ms(29_999), true),
        (ms(30_000), true),
        (ms(30_001), false),
    ] {
        assert_eq!(age(d).is_ok(), ok, "{d:?}");
        assert_eq!(refused(age(d), "connection_max_age"), !ok, "{d:?}");
    }
}

#[test]
fn service_bounds_are_taken_within_their_range() {
    let svc = || {
        PassService::builder()
            .environment(Environment::Custom("http://127.0.0.1:9".into()))
            .service_provider("REF30")
            .software_statement("statement")
    };
    for (n, ok) in [
        (0, false),
        (1, true),
        (2, true),
        (9_999_999, true),
        (10_000_000, true),
        (10_000_001, false),
    ] {
        assert_eq!(svc().max_devices(n).build().is_ok(), ok, "max_devices {n}");
        assert_eq!(refused(svc().max_devices(n).build(), "max_devices"), !ok);
    }
    for (n, ok) in [
        (64 * 1024 - 1, false),
        (64 * 1024, true),
        (64 * 1024 + 1, true),
    ] {
        assert_eq!(
            refused(svc().max_cache_bytes(n).build(), "max_cache_bytes"),
            !ok,
            "{n}"
        );
    }
}

#[test]
fn a_storage_namespace_is_taken_up_to_64_characters() {
    for (n, ok) in [(0, false), (1, true), (63, true), (64, true), (65, false)] {
        let result = offline().storage_namespace("n".repeat(n)).build();
        assert_eq!(refused(result, "storage_namespace"), !ok, "{n}");
    }
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn fleet_bounds_are_taken_within_their_range() {
    // The connection is made lazily: nothing listens there, and nothing needs to.
    let svc = || {
        PassService::builder()
            .environment(Environment::Custom("http://127.0.0.1:9".into()))
            .service_provider("REF30")
            .software_statement("statement")
            .redis("redis://127.0.0.1:9")
            .insecure_plaintext()
    };
    for (n, ok) in [
        (0, false),
        (1, true),
        (2, true),
        (999, true),
        (1000, true),
        (1001, false),
    ] {
        let result = svc().fleet_instances(n).build();
        assert_eq!(
            refused(result, "fleet_instances"),
            !ok,
            "fleet_instances {n}"
        );
    }
    let ms = Duration::from_millis;
    for (t, ok) in [
        (ms(9), false),
        (ms(10), true),
        (ms(11), true),
        (ms(4_999), true),
        (ms(5_000), true),
        (ms(5_001), false),
    ] {
        let result = svc().redis_timeout(t).build();
        assert_eq!(refused(result, "redis_timeout"), !ok, "redis_timeout {t:?}");
    }
}

#[tokio::test]
async fn stored_credentials_are_used_up_to_16_kib_of_printable_text() {
    for (id, used) in [
        ("c".repeat(16 * 1024 - 1), true),
        ("c".repeat(16 * 1024), true),
        ("c".repeat(16 * 1024 + 1), false),
        ("client id".to_string(), false),
    ] {
        let emu = common::emulator().await;
        let storage = storage_with(&[(
            "credentials",
            serde_json::json!({ "client_id": id, "client_secret": "secret" }).to_string(),
        )]);
        let c = builder(&emu).storage(storage).build().unwrap();
        c.configuration().await.unwrap();
        // Credentials in use are sent first: the service does not know them (invalid_client),
        // so the SDK registers and asks again; credentials that cannot be used are never sent.
        assert_eq!(emu.count("/o/client/register"), 1);
        assert_eq!(
            emu.count("/o/client/token"),
            if used { 2 } else { 1 },
            "a {}-byte client id",
            id.len()
        );
    }
}
