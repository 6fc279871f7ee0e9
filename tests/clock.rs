//! A device whose clock is off: expiry (the code's, a profile's, a Permit's) is the service's to
//! judge, so the SDK reads the service's clock off its answers (every `Date`, and a new
//! session's `notBefore` where no `Date` can be read, as in a browser) and judges on it. The
//! emulator's clock is set off from the machine's, which is the device's here, over real HTTP on
//! 127.0.0.1.

use std::sync::Arc;
use tvpass::http::{HttpRequest, HttpTransport, ReqwestTransport, SendFuture};
use tvpass::{Decision, Environment, PassClient, PassError, RateLimit, RetryPolicy};
use tvpass_emulator::{Emulator, EmulatorConfig, DEFAULT_SOFTWARE_STATEMENT};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// How far the device's clock is off, and so the service's from it: -offset.
const DEVICE_OFFSETS: [(i64, &str); 4] = [
    (HOUR, "an hour fast"),
    (DAY, "a day fast"),
    (-HOUR, "an hour slow"),
    (-DAY, "a day slow"),
];

/// reqwest with the `Date` of every answer taken away, as a browser hides it from a
/// cross-origin answer that does not expose it.
struct Undated(ReqwestTransport);

impl HttpTransport for Undated {
    fn send(&self, request: HttpRequest) -> SendFuture<'_> {
        let sent = self.0.send(request);
        Box::pin(async move {
            let mut answer = sent.await?;
            answer.headers.remove("date");
            Ok(answer)
        })
    }
}

async fn emulator(device_offset_ms: i64) -> Emulator {
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = false;
    let emu = Emulator::start(c).await.unwrap();
    emu.set_clock_skew(-device_offset_ms);
    emu
}

fn client(emu: &Emulator, dated: bool) -> PassClient {
    let mut b = PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    if !dated {
        b = b.http_transport(Arc::new(Undated(ReqwestTransport::new().unwrap())));
    }
    b.build().unwrap()
}

/// A login, the profile kept, Permits kept until their `notAfter` on the service's clock, and
/// a playback: what a device with its clock off must still do.
async fn journey(emu: &Emulator, c: &PassClient, what: &str) {
    let s = c.create_session("Cablevision").await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    let profile = c
        .await_profile(&s)
        .await
        .unwrap_or_else(|e| panic!("{what}: the login ended: {e}"));
    assert_eq!(profile.mvpd, "Cablevision");
    assert_eq!(c.cached_profiles().len(), 1, "{what}: the profile is kept");
    let before = emu.count("/api/v2/REF30/profiles");
    assert_eq!(c.profiles().await.unwrap().len(), 1);
    assert_eq!(
        emu.count("/api/v2/REF30/profiles"),
        before,
        "{what}: the kept profile answers"
    );
    let first = c
        .preauthorize("Cablevision", &["news", "sports"])
        .await
        .unwrap();
    assert!(first.iter().all(Decision::is_permit), "{what}: {first:?}");
    let before = emu.count("/api/v2/REF30/decisions");
    c.preauthorize("Cablevision", &["news", "sports"])
        .await
        .unwrap();
    assert_eq!(
        emu.count("/api/v2/REF30/decisions"),
        before,
        "{what}: the Permits (an hour on the service's clock) are kept"
    );
    let d = c.authorize("Cablevision", "news").await.unwrap();
    assert!(d.is_permit(), "{what}: {d:?}");
}

#[tokio::test]
async fn a_device_an_hour_or_a_day_off_logs_in_and_keeps_what_is_valid() {
    for (offset, what) in DEVICE_OFFSETS {
        let emu = emulator(offset).await;
        journey(&emu, &client(&emu, true), what).await;
    }
}

#[tokio::test]
async fn without_a_readable_date_a_new_sessions_time_sets_the_clock() {
    for (offset, what) in DEVICE_OFFSETS {
        let emu = emulator(offset).await;
        let c = client(&emu, false);
        journey(&emu, &c, &format!("{what}, no Date")).await;
    }
}

#[tokio::test]
async fn an_expired_code_ends_the_login_on_the_services_clock_without_a_poll() {
    // A device a day slow: by its own clock the code would last a day and half an hour more.
    let emu = emulator(-DAY).await;
    let c = client(&emu, true);
    let s = c.create_session("Cablevision").await.unwrap();
    emu.advance(std::time::Duration::from_secs(31 * 60));
    // Any answer carries the service's time.
    c.profiles().await.unwrap();
    let polls = emu.count("/api/v2/REF30/profiles/code");
    let err = c.await_profile(&s).await.unwrap_err();
    assert!(matches!(err, PassError::AuthenticationExpired), "{err:?}");
    assert_eq!(
        emu.count("/api/v2/REF30/profiles/code"),
        polls,
        "ended on the service's clock, not by the service's answer to a poll"
    );
}

#[tokio::test]
async fn a_permit_ends_on_the_services_clock_not_the_devices() {
    // A device a day slow keeps a Permit (an hour on the service's clock) no longer than its
    // end: by its own clock the Permit would last a day and an hour.
    let emu = emulator(-DAY).await;
    let c = client(&emu, true);
    let s = c.create_session("Cablevision").await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    c.await_profile(&s).await.unwrap();
    c.preauthorize("Cablevision", &["news"]).await.unwrap();
    emu.advance(std::time::Duration::from_secs(61 * 60));
    // A playback authorization (never cached) brings the service's time.
    assert!(c
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());
    let before = emu.count("/api/v2/REF30/decisions/preauthorize");
    let again = c.preauthorize("Cablevision", &["news"]).await.unwrap();
    assert!(again[0].is_permit());
    assert_eq!(
        emu.count("/api/v2/REF30/decisions/preauthorize") - before,
        1,
        "the ended Permit is asked again"
    );
}
