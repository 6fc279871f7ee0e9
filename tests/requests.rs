//! What the SDK's requests do on the wire, against the emulator on 127.0.0.1: the waits a
//! `Retry-After` asks for, and path segments that could change the URL's path.

use std::time::Duration;
use tvpass::{DeviceInfo, Environment, PassClient, PassError, RateLimit, RetryPolicy};
use tvpass_emulator::{Emulator, EmulatorConfig, Fault, DEFAULT_SOFTWARE_STATEMENT};

const AUTHORIZE: &str = "/api/v2/REF30/decisions/authorize";

async fn emulator() -> Emulator {
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = false;
    Emulator::start(c).await.unwrap()
}

fn client_with(emu: &Emulator, deadline: Duration) -> PassClient {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
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
            deadline,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

async fn logged_in(emu: &Emulator, deadline: Duration) -> PassClient {
    let c = client_with(emu, deadline);
    let s = c.create_session("Cablevision").await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    c.await_profile(&s).await.unwrap();
    c
}

/// Arms `fault` once on authorize, makes one authorize call, and gives back the call's result
/// and the ms between the first request's arrival and each later one's.
async fn authorize_after(
    emu: &Emulator,
    c: &PassClient,
    fault: Fault,
) -> (Result<tvpass::Decision, PassError>, Vec<i64>) {
    emu.clear_requests();
    emu.inject_fault(AUTHORIZE, fault, 1);
    let result = c.authorize("Cablevision", "news").await;
    let log = emu.requests();
    let gaps = log
        .iter()
        .map(|r| r.time_ms - log[0].time_ms)
        .skip(1)
        .collect();
    (result, gaps)
}

fn retry_after(status: u16, value: &str) -> Fault {
    Fault::RetryAfter {
        status,
        value: value.into(),
    }
}

#[tokio::test]
async fn a_429s_retry_after_in_seconds_is_waited() {
    let emu = emulator().await;
    let c = logged_in(&emu, Duration::from_secs(30)).await;
    let (result, gaps) = authorize_after(&emu, &c, retry_after(429, "2")).await;
    assert!(result.unwrap().is_permit());
    assert_eq!(gaps.len(), 1, "the 429 and one retry");
    assert!(gaps[0] >= 2000, "retried after {} ms", gaps[0]);
}

#[tokio::test]
async fn a_429_asking_for_less_than_a_second_still_gets_one() {
    let emu = emulator().await;
    let c = logged_in(&emu, Duration::from_secs(30)).await;
    let (result, gaps) = authorize_after(&emu, &c, retry_after(429, "0")).await;
    assert!(result.unwrap().is_permit());
    assert_eq!(gaps.len(), 1);
    assert!(gaps[0] >= 1000, "retried after {} ms", gaps[0]);
}

#[tokio::test]
async fn a_503s_retry_after_as_an_http_date_is_waited() {
    let emu = emulator().await;
    let c = logged_in(&emu, Duration::from_secs(30)).await;
    // Three seconds from now, truncated to the second as the date form is.
    let at = chrono::Utc::now().timestamp() + 3;
    let date = chrono::DateTime::from_timestamp(at, 0).unwrap();
    let value = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    emu.clear_requests();
    emu.inject_fault(AUTHORIZE, retry_after(503, &value), 1);
    assert!(c
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());
    let log = emu.requests();
    assert_eq!(log.len(), 2, "the 503 and one retry");
    assert_eq!(log[0].status, 503);
    // The emulator's clock is the wall clock (not advanced here): the retry came at the date.
    assert!(
        log[1].time_ms >= at * 1000,
        "retried {} ms before the date {value}",
        at * 1000 - log[1].time_ms
    );
    assert!(log[1].time_ms - log[0].time_ms >= 2000);
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_ends_the_call_with_its_error() {
    let emu = emulator().await;
    let c = logged_in(&emu, Duration::from_secs(3)).await;
    let (result, gaps) = authorize_after(&emu, &c, retry_after(429, "10")).await;
    assert!(matches!(result, Err(PassError::Throttled)), "{result:?}");
    assert!(gaps.is_empty(), "no retry: {gaps:?}");
    // The device stays silent for the 10 s it was asked: the next call, too short to wait
    // them out, sends nothing.
    emu.clear_requests();
    let next = c.authorize("Cablevision", "news").await;
    assert!(matches!(next, Err(PassError::Throttled)), "{next:?}");
    assert_eq!(emu.count(AUTHORIZE), 0);
    // A 503's Retry-After delays only that call's retry.
    let c = logged_in(&emu, Duration::from_secs(3)).await;
    let (result, gaps) = authorize_after(&emu, &c, retry_after(503, "10")).await;
    assert!(
        matches!(result, Err(PassError::Server { status: 503, .. })),
        "{result:?}"
    );
    assert!(gaps.is_empty(), "no retry: {gaps:?}");
}

#[tokio::test]
async fn an_unreadable_retry_after_is_ignored() {
    let emu = emulator().await;
    let c = logged_in(&emu, Duration::from_secs(3)).await;
    for value in ["soon", "-5", "Sunday, 06-Nov-94 08:49:37 GMT"] {
        let (result, gaps) = authorize_after(&emu, &c, retry_after(503, value)).await;
        assert!(result.unwrap().is_permit(), "{value:?}");
        assert_eq!(gaps.len(), 1, "{value:?}: one retry after the backoff");
    }
}

fn refused(result: Result<impl std::fmt::Debug, PassError>, name: &str) {
    match result {
        Err(PassError::InvalidConfiguration { setting, .. }) => assert_eq!(setting, name),
        other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test]
async fn a_path_segment_of_dot_or_dot_dot_is_refused_before_any_request() {
    let emu = emulator().await;
    let c = client_with(&emu, Duration::from_secs(30));
    for dots in [".", ".."] {
        refused(c.authorize(dots, "news").await, "mvpd");
        refused(c.preauthorize(dots, &["news"]).await, "mvpd");
        refused(c.profile(dots).await, "mvpd");
        refused(c.logout(dots).await, "mvpd");
        refused(c.create_session(dots).await, "mvpd");
        refused(c.authorize_temp_pass(dots, "news", None).await, "mvpd");
        refused(c.profile_for_code(dots).await, "code");
        refused(c.session(dots).await, "code");
        refused(c.resume_session(dots, "Cablevision").await, "code");
        refused(
            PassClient::builder()
                .environment(Environment::Custom(emu.base_url()))
                .service_provider(dots)
                .software_statement(DEFAULT_SOFTWARE_STATEMENT)
                .build(),
            "service_provider",
        );
    }
    assert!(
        emu.requests().is_empty(),
        "sent: {:?}",
        emu.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn dots_that_are_not_a_whole_segment_go_out_as_names() {
    let emu = emulator().await;
    let c = logged_in(&emu, Duration::from_secs(30)).await;
    emu.clear_requests();
    // Percent-encoded dots, more than two dots: names, sent encoded (the service answers
    // that it knows no such MVPD). A resource goes in the body: `..` is one.
    for mvpd in ["%2e%2E", "%2e", "...", ".%2e"] {
        let _ = c.authorize(mvpd, "news").await;
    }
    assert!(c.authorize("Cablevision", "..").await.is_ok());
    let paths: Vec<String> = emu.requests().into_iter().map(|r| r.path).collect();
    for sent in ["%252e%252E", "%252e", "...", ".%252e", "Cablevision"] {
        let want = format!("{AUTHORIZE}/{sent}");
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
}
