//! A service through an outage of Adobe Pass, against the emulator over real HTTP on 127.0.0.1
//! with its throttling on: 500 devices call while every request fails (503, or no answer
//! before the request timeout). The shared retry budget and fail-fast keep the requests near
//! one per call, no request leaves after its call's deadline, every call ends with a typed
//! error, and calls succeed again soon after the outage, with no 429 at any point.
//!
//! What the SDK controls is asserted from its own sends and the emulator's log. How fast the
//! machine carries an exchange is not the SDK's: the same suite runs on an emulated ARM64 CPU,
//! where 500 exchanges at once take seconds, longer than the 400 ms request timeout and close
//! to the 3 s deadline. So a calibration comes first, on the same runtime and emulator: the
//! time this machine takes to carry one healthy call of every device at once. Where that is
//! longer than on a plain x86_64 machine (about 0.5 s), the request timeout, the deadline and
//! the emulator's delay grow by the same factor, and the wall-clock bounds that remain (a
//! call's end, the recovery) by the time measured. On x86_64 the settings are those of the
//! figures in the README.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass::http::SendFuture;
use tvpass::{
    DeviceContext, Environment, FailFast, HttpRequest, HttpTransport, PassError, PassService,
    PassServiceBuilder, ReqwestTransport, RetryBudget, RetryPolicy,
};
use tvpass_emulator::{Emulator, Fault, DEFAULT_SOFTWARE_STATEMENT};

const DEVICES: u32 = 500;
/// A call's deadline, a request's timeout and the outage's delay, on a plain x86_64 machine.
const DEADLINE: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(400);
const DELAY: Duration = Duration::from_millis(1_000);
/// What 500 healthy calls at once take there, at most.
const CARRY: Duration = Duration::from_millis(500);

/// The times of a run on this machine: the settings above, scaled when the machine is slower.
#[derive(Clone, Copy)]
struct Times {
    scale: f64,
    /// How long this machine took to carry every device's healthy call at once.
    carry: Duration,
}

impl Times {
    fn of(carry: Duration) -> Self {
        let scale = (carry.as_secs_f64() / CARRY.as_secs_f64()).max(1.0);
        Self { scale, carry }
    }
    fn deadline(&self) -> Duration {
        DEADLINE.mul_f64(self.scale)
    }
    fn request_timeout(&self) -> Duration {
        REQUEST_TIMEOUT.mul_f64(self.scale)
    }
    fn delay(&self) -> Duration {
        DELAY.mul_f64(self.scale)
    }
    /// How much later than its deadline a call's task may be woken here.
    fn margin(&self) -> Duration {
        self.carry.max(Duration::from_millis(200))
    }
}

fn device(n: u32) -> DeviceContext {
    let ip = IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n));
    DeviceContext::new(format!("roku-device-{n}"), ip)
}

tokio::task_local! {
    /// When the call being polled started (set around each device's call).
    static CALL_STARTED: Instant;
}

/// What the transport saw: requests sent, and the latest a request left after the start of its
/// call, in microseconds.
#[derive(Default)]
struct Sends {
    count: AtomicUsize,
    latest_us: AtomicU64,
}

impl Sends {
    fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    fn latest(&self) -> Duration {
        Duration::from_micros(self.latest_us.load(Ordering::Relaxed))
    }
}

/// The built-in transport, counting the requests it sends (the emulator logs a request when it
/// answers, and never logs one the SDK gave up on) and when each leaves. The SDK hands a
/// request to its transport after checking its call's deadline, in the poll of that call's
/// future, where the call's start is in scope.
struct Counting(ReqwestTransport, Arc<Sends>);

impl HttpTransport for Counting {
    fn send(&self, request: HttpRequest) -> SendFuture<'_> {
        self.1.count.fetch_add(1, Ordering::Relaxed);
        if let Ok(started) = CALL_STARTED.try_with(|s| *s) {
            let after = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.1.latest_us.fetch_max(after, Ordering::Relaxed);
        }
        self.0.send(request)
    }
}

fn counted(emu: &Emulator, sent: &Arc<Sends>) -> PassServiceBuilder {
    PassService::builder()
        .http_transport(Arc::new(Counting(
            ReqwestTransport::new().unwrap(),
            sent.clone(),
        )))
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
}

async fn service(emu: &Emulator, sent: &Arc<Sends>, times: Times) -> PassService {
    let service = counted(emu, sent)
        .request_timeout(times.request_timeout())
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
            deadline: times.deadline(),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    service.warm_up().await.unwrap();
    service
}

/// What the outage did: requests sent, how each call ended, the slowest call, and the latest a
/// request left after its call started.
struct Outcome {
    requests: usize,
    errors: Vec<PassError>,
    slowest: Duration,
    latest_send: Duration,
}

/// Calls every device of `devices` once, all at once, each in the scope of its start; each
/// call's result and time.
async fn all_at_once(
    service: &PassService,
    devices: std::ops::Range<u32>,
) -> Vec<(Result<Vec<tvpass::Profile>, PassError>, Duration)> {
    let calls = devices.map(|n| {
        let client = service.device(device(n)).unwrap();
        let started = Instant::now();
        CALL_STARTED.scope(started, async move {
            let result = client.profiles().await;
            (result, started.elapsed())
        })
    });
    futures_util::future::join_all(calls).await
}

/// The machine's own margin: how long one healthy call of `DEVICES` devices at once takes here,
/// end to end, through a service of its own with the same settings (the measured one starts
/// cold, as before any outage) and devices the outage does not use. Some hundred milliseconds
/// on x86_64; seconds on an emulated CPU, where a task is also woken that much later.
async fn calibrate(emu: &Emulator) -> Times {
    // Timeouts no machine reaches: this measures the machine, not the SDK.
    let service = counted(emu, &Arc::default())
        .request_timeout(Duration::from_secs(60))
        .retry(RetryPolicy {
            deadline: Duration::from_secs(120),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    service.warm_up().await.unwrap();
    let started = Instant::now();
    for (r, _) in all_at_once(&service, 100_000..100_000 + DEVICES).await {
        r.unwrap();
    }
    let times = Times::of(started.elapsed());
    println!(
        "this machine carries {DEVICES} healthy calls at once in {:?}: timeouts {:.1} times those of x86_64",
        times.carry, times.scale
    );
    times
}

/// Every device asks for its profiles once, all at once, while `fault` answers every request.
async fn outage(emu: &Emulator, service: &PassService, sent: &Sends, fault: Fault) -> Outcome {
    let before = sent.count();
    sent.latest_us.store(0, Ordering::Relaxed);
    emu.inject_fault("/api/v2/", fault, u32::MAX);
    let results = all_at_once(service, 0..DEVICES).await;
    let requests = sent.count() - before;
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
        latest_send: sent.latest(),
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

/// An outage of 503s (`delayed`: of answers later than the request timeout).
async fn check(delayed: bool) {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let times = calibrate(&emu).await;
    let fault = if delayed {
        Fault::Delay {
            ms: times.delay().as_millis() as u64,
        }
    } else {
        Fault::Status { status: 503 }
    };
    let sent = Arc::new(Sends::default());
    let service = service(&emu, &sent, times).await;
    let out = outage(&emu, &service, &sent, fault).await;
    let ratio = out.requests as f64 / f64::from(DEVICES);
    println!(
        "{} calls during the outage: {} requests ({ratio:.3} per call), the last sent {:?} after its call started, slowest call {:?}, {} failed fast",
        DEVICES,
        out.requests,
        out.latest_send,
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
    // The SDK's own bound: no request leaves after its call's deadline.
    assert!(
        out.latest_send <= times.deadline(),
        "a request left {:?} after its call started",
        out.latest_send
    );
    // A call ends at its deadline; its task may be woken later by as much as this machine
    // takes to carry every device's call at once.
    assert!(
        out.slowest <= times.deadline() + times.margin(),
        "{:?} (deadline {:?}, this machine's margin {:?})",
        out.slowest,
        times.deadline(),
        times.margin()
    );
    assert_typed(&out.errors);
    assert!(service.failing_fast().is_some());
    let recovered = recovery(&service).await;
    println!("calls succeed again {recovered:?} after the outage");
    // The cool-down (1 s, up to 1.5 s with its jitter), then the probes' exchanges.
    assert!(
        recovered <= Duration::from_secs(2) + times.carry,
        "{recovered:?} (this machine's margin {:?})",
        times.carry
    );
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
    check(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_timeouts_ends_every_call_within_its_deadline() {
    check(true).await;
}

/// Without fail-fast, the budget alone holds the requests: a tenth more than the calls. The
/// deadline here is long enough that no call ends on it, however slow the machine: this test
/// counts what the budget allows, and every call ends on the service's 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_alone_bounds_the_retries() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let sent = Arc::new(Sends::default());
    let service = counted(&emu, &sent)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
            deadline: Duration::from_secs(30),
            ..RetryPolicy::default()
        })
        .fail_fast(FailFast::off())
        .retry_budget(RetryBudget::default())
        .build()
        .unwrap();
    service.warm_up().await.unwrap();
    let out = outage(&emu, &service, &sent, Fault::Status { status: 503 }).await;
    println!(
        "without fail-fast: {} requests for {DEVICES} calls, slowest call {:?}",
        out.requests, out.slowest
    );
    // The budget's window is 10 s: the outage fits in it.
    assert!(out.slowest < Duration::from_secs(10), "{:?}", out.slowest);
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
