//! A service through an outage of Adobe Pass, against the emulator over real HTTP on 127.0.0.1
//! with its throttling on: 500 devices call while every request fails (503, or no answer
//! before the request timeout). The shared retry budget and fail-fast keep the requests near
//! one per call, every call ends within its deadline with a typed error, and calls succeed
//! again within 2 s of the end of the outage, with no 429 at any point.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass::http::SendFuture;
use tvpass::{
    DeviceContext, Environment, FailFast, HttpRequest, HttpTransport, PassError, PassService,
    PassServiceBuilder, ReqwestTransport, RetryBudget, RetryPolicy,
};
use tvpass_emulator::{Emulator, Fault, DEFAULT_SOFTWARE_STATEMENT};

const DEVICES: u32 = 500;
const DEADLINE: Duration = Duration::from_secs(3);

fn device(n: u32) -> DeviceContext {
    let ip = IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n));
    DeviceContext::new(format!("roku-device-{n}"), ip)
}

/// The built-in transport, counting the requests it sends (the emulator logs a request when it
/// answers, and never logs one the SDK gave up on).
struct Counting(ReqwestTransport, Arc<AtomicUsize>);

impl HttpTransport for Counting {
    fn send(&self, request: HttpRequest) -> SendFuture<'_> {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.send(request)
    }
}

fn counted(emu: &Emulator, sent: &Arc<AtomicUsize>) -> PassServiceBuilder {
    PassService::builder()
        .http_transport(Arc::new(Counting(
            ReqwestTransport::new().unwrap(),
            sent.clone(),
        )))
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
}

async fn service(emu: &Emulator, sent: &Arc<AtomicUsize>) -> PassService {
    let service = counted(emu, sent)
        .request_timeout(Duration::from_millis(400))
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
            deadline: DEADLINE,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    service.warm_up().await.unwrap();
    service
}

/// What the outage did: requests that reached the emulator, and how each call ended.
struct Outcome {
    requests: usize,
    errors: Vec<PassError>,
    slowest: Duration,
}

/// Every device asks for its profiles once, all at once, while `fault` answers every request.
async fn outage(
    emu: &Emulator,
    service: &PassService,
    sent: &AtomicUsize,
    fault: Fault,
) -> Outcome {
    let before = sent.load(Ordering::Relaxed);
    emu.inject_fault("/api/v2/", fault, u32::MAX);
    let calls = (0..DEVICES).map(|n| {
        let client = service.device(device(n)).unwrap();
        async move {
            let started = Instant::now();
            let result = client.profiles().await;
            (result, started.elapsed())
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let requests = sent.load(Ordering::Relaxed) - before;
    emu.clear_faults();
    let slowest = results.iter().map(|(_, t)| *t).max().unwrap();
    let errors = results
        .into_iter()
        .map(|(r, _)| r.expect_err("every call fails during the outage"))
        .collect();
    Outcome {
        requests,
        errors,
        slowest,
    }
}

/// Calls a device every 50 ms from the end of the outage until calls go through again (the
/// probes succeeded); the time it took.
async fn recovery(service: &PassService) -> Duration {
    let ended = Instant::now();
    let mut n = DEVICES;
    loop {
        n += 1;
        let ok = service.device(device(n)).unwrap().profiles().await.is_ok();
        if ok && service.failing_fast().is_none() {
            return ended.elapsed();
        }
        assert!(ended.elapsed() < Duration::from_secs(10), "never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_typed(errors: &[PassError]) {
    for e in errors {
        assert!(
            matches!(
                e,
                PassError::Server { status: 503, .. }
                    | PassError::Timeout(_)
                    | PassError::Unavailable { .. }
            ),
            "{e:?}"
        );
    }
}

async fn check(fault: Fault) {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let service = service(&emu, &sent).await;
    let out = outage(&emu, &service, &sent, fault).await;
    let ratio = out.requests as f64 / f64::from(DEVICES);
    println!(
        "{} calls during the outage: {} requests ({ratio:.3} per call), slowest call {:?}, {} failed fast",
        DEVICES,
        out.requests,
        out.slowest,
        out.errors
            .iter()
            .filter(|e| matches!(e, PassError::Unavailable { .. }))
            .count()
    );
    assert!(
        ratio <= 1.15,
        "{} requests for {DEVICES} calls",
        out.requests
    );
    assert!(
        out.slowest <= DEADLINE + Duration::from_millis(200),
        "{:?}",
        out.slowest
    );
    assert_typed(&out.errors);
    assert!(service.failing_fast().is_some());
    let recovered = recovery(&service).await;
    println!("calls succeed again {recovered:?} after the outage");
    assert!(recovered <= Duration::from_secs(2), "{recovered:?}");
    // Traffic is back for every device (50 at a time: the request timeout is short, and the
    // emulator shares the machine, or an emulated CPU under qemu).
    for chunk in (0..DEVICES).collect::<Vec<_>>().chunks(50) {
        let calls = chunk.iter().map(|n| {
            let client = service.device(device(*n)).unwrap();
            async move { client.profiles().await }
        });
        for r in futures_util::future::join_all(calls).await {
            r.unwrap();
        }
    }
    assert_eq!(service.failing_fast(), None);
    assert!(
        emu.requests().iter().all(|r| r.status != 429),
        "a request was throttled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_503s_costs_about_one_request_per_call() {
    check(Fault::Status { status: 503 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_timeouts_ends_every_call_within_its_deadline() {
    check(Fault::Delay { ms: 1_000 }).await;
}

/// Without fail-fast, the budget alone holds the requests: a tenth more than the calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_alone_bounds_the_retries() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let service = counted(&emu, &sent)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
            deadline: DEADLINE,
            ..RetryPolicy::default()
        })
        .fail_fast(FailFast::off())
        .retry_budget(RetryBudget::default())
        .build()
        .unwrap();
    service.warm_up().await.unwrap();
    let out = outage(&emu, &service, &sent, Fault::Status { status: 503 }).await;
    // 500 calls: a tenth is 50 retries, as many as the floor of 5 a second over 10 s.
    assert_eq!(out.requests, 550, "{} requests", out.requests);
    assert_typed(&out.errors);
    assert!(out
        .errors
        .iter()
        .all(|e| matches!(e, PassError::Server { status: 503, .. })));
}

/// Settings out of range are refused at build.
#[test]
fn budget_and_fail_fast_settings_are_checked() {
    let base = || {
        PassService::builder()
            .service_provider("REF30")
            .software_statement(DEFAULT_SOFTWARE_STATEMENT)
    };
    let refused = |b: tvpass::PassServiceBuilder, setting: &str| match b.build() {
        Err(PassError::InvalidConfiguration { setting: s, .. }) => assert_eq!(s, setting),
        other => panic!("{setting}: {other:?}"),
    };
    refused(
        base().retry_budget(RetryBudget {
            ratio: 1.5,
            ..RetryBudget::default()
        }),
        "retry_budget.ratio",
    );
    refused(
        base().fail_fast(FailFast {
            failures: 1,
            ..FailFast::default()
        }),
        "fail_fast.failures",
    );
    refused(
        base().fail_fast(FailFast {
            cool_down: Duration::from_millis(10),
            ..FailFast::default()
        }),
        "fail_fast.cool_down",
    );
    refused(
        base().fail_fast(FailFast {
            probes: 0,
            ..FailFast::default()
        }),
        "fail_fast.probes",
    );
    base().build().unwrap();
}
