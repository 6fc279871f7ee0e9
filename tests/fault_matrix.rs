//! Every fault the emulator can inject, crossed with every call: the SDK recovers within its
//! retry limit or returns the documented error, never panics, never passes its deadline by more
//! than a second, never sends more than the maximum attempts, and keeps stored credentials and
//! profiles intact. The matrix is printed.
//!
//! With the `ffi` feature the matrix runs a second time through the FFI's foreign transport
//! (a Rust double of the host's HTTP stack): every cell must end the same way with the same
//! number of requests.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tvpass::{
    DeviceInfo, Environment, MemoryStorage, PassClient, PassError, RateLimit, RetryPolicy, Storage,
};
use tvpass_emulator::{Emulator, EmulatorConfig, Fault, DEFAULT_SOFTWARE_STATEMENT};

const DEADLINE: Duration = Duration::from_secs(6);
const TIMEOUT: Duration = Duration::from_millis(400);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Call {
    Register,
    Token,
    Configuration,
    Session,
    ProfileByCode,
    Preauthorize,
    Authorize,
    Logout,
}

impl Call {
    fn path(self) -> &'static str {
        match self {
            Call::Register => "/o/client/register",
            Call::Token => "/o/client/token",
            Call::Configuration => "/api/v2/REF30/configuration",
            Call::Session => "/api/v2/REF30/sessions",
            Call::ProfileByCode => "/api/v2/REF30/profiles/code",
            Call::Preauthorize => "/api/v2/REF30/decisions/preauthorize",
            Call::Authorize => "/api/v2/REF30/decisions/authorize",
            Call::Logout => "/api/v2/REF30/logout",
        }
    }
}

/// What the SDK must answer when the fault persists on every attempt.
#[derive(Debug, PartialEq)]
enum Expect {
    Server(u16),
    Throttled,
    Timeout,
    Network,
    Protocol,
    Recovers,
}

fn faults() -> Vec<(&'static str, Fault, Expect)> {
    vec![
        ("500", Fault::Status { status: 500 }, Expect::Server(500)),
        ("503", Fault::Status { status: 503 }, Expect::Server(503)),
        ("429", Fault::Throttle, Expect::Throttled),
        ("delay", Fault::Delay { ms: 1200 }, Expect::Timeout),
        ("drop", Fault::Drop, Expect::Network),
        ("truncated", Fault::Truncate, Expect::Protocol),
        ("invalid json", Fault::InvalidJson, Expect::Protocol),
        (
            "oversized",
            Fault::Oversized { bytes: 300_000 },
            Expect::Protocol,
        ),
        ("html 200", Fault::Html { status: 200 }, Expect::Protocol),
        ("html 502", Fault::Html { status: 502 }, Expect::Server(502)),
        ("xml 200", Fault::Xml { status: 200 }, Expect::Protocol),
        ("content type", Fault::WrongContentType, Expect::Recovers),
    ]
}

fn matches(e: &PassError, want: &Expect) -> bool {
    match (e, want) {
        (PassError::Server { status, .. }, Expect::Server(s)) => status == s,
        (PassError::Throttled, Expect::Throttled) => true,
        (PassError::Timeout(_), Expect::Timeout) => true,
        (PassError::Network(_), Expect::Network) => true,
        (PassError::Protocol(_), Expect::Protocol) => true,
        _ => false,
    }
}

/// What sends the requests.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    BuiltIn,
    #[cfg(feature = "ffi")]
    Foreign,
    #[cfg(feature = "ffi")]
    ForeignBlocking,
}

#[cfg(feature = "ffi")]
mod double {
    //! The host's HTTP stack as Swift or Kotlin would give it, in Rust: it sees only what the
    //! FFI hands over (method, URL, headers, body, timeout, cap) and answers FFI records.
    use std::sync::Arc;
    use std::time::Duration;
    use tvpass::ffi::{HttpError, HttpHeader, HttpRequest, HttpResponse, HttpTransport};

    pub struct Double(reqwest::Client);

    /// The blocking shape (as Kotlin's HttpURLConnection transport): called on the SDK's
    /// blocking threads; it reads the request with one `parts()` call, as hosts do.
    pub struct BlockingDouble(Double, tokio::runtime::Handle);

    impl BlockingDouble {
        pub fn new() -> Self {
            Self(Double::new(), tokio::runtime::Handle::current())
        }
    }

    impl tvpass::ffi::BlockingHttpTransport for BlockingDouble {
        fn send(&self, request: Arc<HttpRequest>) -> Result<HttpResponse, HttpError> {
            let parts = request.parts();
            let block = String::from_utf8(parts.header_block).unwrap();
            assert!(
                block.contains("accept: application/json\r\n"),
                "headers as CRLF lines"
            );
            self.1.block_on(HttpTransport::send(&self.0, request))
        }
    }

    impl Double {
        pub fn new() -> Self {
            Self(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap(),
            )
        }
    }

    fn error(e: reqwest::Error) -> HttpError {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            HttpError::Connect {
                reason: "the exchange broke off".into(),
            }
        }
    }

    #[async_trait::async_trait]
    impl HttpTransport for Double {
        async fn send(&self, request: Arc<HttpRequest>) -> Result<HttpResponse, HttpError> {
            let method = reqwest::Method::from_bytes(request.method().as_bytes()).map_err(|e| {
                HttpError::Other {
                    reason: e.to_string(),
                }
            })?;
            let mut rb = self
                .0
                .request(method, request.url())
                .timeout(Duration::from_millis(request.timeout_ms()));
            for h in request.headers() {
                rb = rb.header(h.name, h.value.0);
            }
            if let Some(body) = request.body() {
                rb = rb.body(body);
            }
            let resp = rb.send().await.map_err(error)?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| HttpHeader {
                    name: k.to_string(),
                    value: v.to_str().unwrap_or_default().to_string().into(),
                })
                .collect();
            let body = resp.bytes().await.map_err(error)?.to_vec();
            if body.len() as u64 > request.max_response_bytes() {
                return Err(HttpError::TooLarge);
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        }
    }
}

fn client(emu: &Emulator, storage: Arc<MemoryStorage>, via: Via) -> PassClient {
    let b = PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("TV".into()),
            ..Default::default()
        })
        .storage(storage)
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .request_timeout(TIMEOUT)
        .max_response_bytes(128 * 1024)
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
            deadline: DEADLINE,
        });
    let b = match via {
        Via::BuiltIn => b,
        #[cfg(feature = "ffi")]
        Via::Foreign => b.http_transport(tvpass::ffi::foreign_transport(Arc::new(
            double::Double::new(),
        ))),
        #[cfg(feature = "ffi")]
        Via::ForeignBlocking => b.http_transport(tvpass::ffi::blocking_transport(Arc::new(
            double::BlockingDouble::new(),
        ))),
    };
    b.build().unwrap()
}

fn snapshot(storage: &MemoryStorage) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = storage
        .keys()
        .into_iter()
        .filter(|k| {
            k.ends_with("credentials") || k.ends_with("profiles") || k.ends_with("device_id")
        })
        .map(|k| {
            let value = storage.get(&k).unwrap().unwrap();
            (k, value)
        })
        .collect();
    v.sort();
    v
}

/// One cell: the number of requests the faulted call sent, or what went wrong.
async fn cell(call: Call, fault: &Fault, expect: &Expect, via: Via) -> Result<usize, String> {
    let mut config = EmulatorConfig::default();
    config.throttling.enabled = false;
    let emu = Emulator::start(config).await.unwrap();
    let storage = Arc::new(MemoryStorage::new());
    let c = client(&emu, storage.clone(), via);
    let mut code = String::new();
    if !matches!(call, Call::Register | Call::Token) {
        let s = c
            .create_session("Cablevision")
            .await
            .map_err(|e| e.to_string())?;
        code = s.code.clone().unwrap();
        if call != Call::ProfileByCode {
            emu.complete_authentication(&code, Default::default())
                .unwrap();
            c.await_profile(&s).await.map_err(|e| e.to_string())?;
        }
    }
    let before = snapshot(&storage);
    emu.inject_fault(call.path(), fault.clone(), 100);
    emu.clear_requests();
    let started = Instant::now();
    let result: Result<(), PassError> = match call {
        Call::Register | Call::Token | Call::Configuration => c.configuration().await.map(|_| ()),
        Call::Session => c.create_session("Spectrum").await.map(|_| ()),
        Call::ProfileByCode => c.profile_for_code(&code).await.map(|_| ()),
        Call::Preauthorize => c
            .preauthorize("Cablevision", &["news", "sports"])
            .await
            .map(|_| ()),
        Call::Authorize => c.authorize("Cablevision", "news").await.map(|_| ()),
        Call::Logout => c.logout("Cablevision").await.map(|_| ()),
    };
    let elapsed = started.elapsed();
    let attempts = emu.count(call.path());
    if elapsed > DEADLINE + Duration::from_secs(1) {
        return Err(format!("took {elapsed:?}"));
    }
    if attempts > 3 {
        return Err(format!("{attempts} attempts"));
    }
    match (&result, expect) {
        (Ok(()), Expect::Recovers) => {}
        (Err(e), want) if matches(e, want) => {}
        (other, want) => return Err(format!("{other:?}, expected {want:?}")),
    }
    let after = snapshot(&storage);
    // Credentials, device id and profiles are kept (a failed logout keeps the profile too).
    for (k, v) in &before {
        if call == Call::Logout && result.is_ok() && k.ends_with("profiles") {
            continue; // a logout that went through removes the profile, as it should
        }
        if !after.iter().any(|(k2, v2)| k2 == k && v2 == v) {
            return Err(format!("stored {k} changed"));
        }
    }
    Ok(attempts)
}

/// Runs the whole matrix; prints it; returns the failures and every cell's request count.
async fn matrix(via: Via) -> (Vec<String>, Vec<usize>) {
    let calls = [
        Call::Register,
        Call::Token,
        Call::Configuration,
        Call::Session,
        Call::ProfileByCode,
        Call::Preauthorize,
        Call::Authorize,
        Call::Logout,
    ];
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    let mut table = format!("{via:?}\n{:<14}", "fault \\ call");
    for c in calls {
        table.push_str(&format!("{:<15}", format!("{c:?}")));
    }
    table.push('\n');
    for (name, fault, expect) in faults() {
        table.push_str(&format!("{name:<14}"));
        let cells =
            futures_util::future::join_all(calls.iter().map(|c| cell(*c, &fault, &expect, via)))
                .await;
        for (c, r) in calls.iter().zip(cells) {
            match r {
                Ok(n) => {
                    counts.push(n);
                    table.push_str(&format!("{:<15}", format!("pass ({n})")));
                }
                Err(e) => {
                    counts.push(usize::MAX);
                    table.push_str(&format!("{:<15}", "FAIL"));
                    failures.push(format!("{name} x {c:?}: {e}"));
                }
            }
        }
        table.push('\n');
    }
    println!("{table}");
    (failures, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    let (failures, _) = matrix(Via::BuiltIn).await;
    assert!(
        failures.is_empty(),
        "failed cells:\n{}",
        failures.join("\n")
    );
}

#[cfg(feature = "ffi")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix_through_the_foreign_transport() {
    let (failures, foreign) = matrix(Via::Foreign).await;
    assert!(
        failures.is_empty(),
        "failed cells:\n{}",
        failures.join("\n")
    );
    let (failures, blocking) = matrix(Via::ForeignBlocking).await;
    assert!(
        failures.is_empty(),
        "failed cells:\n{}",
        failures.join("\n")
    );
    let (_, built_in) = matrix(Via::BuiltIn).await;
    assert_eq!(foreign, built_in, "the same request counts, async host");
    assert_eq!(blocking, built_in, "the same request counts, blocking host");
}

/// A decision without a profile comes as a Deny in both of the forms the SDK reads: the items of
/// a 200 decisions list (the service's form, the emulator's default) and a top-level 403 error
/// (the `top_level_error` fault). One request each, never retried, through every transport.
async fn profile_missing_in_both_forms(via: Via) {
    use tvpass::{Decision, DenyReason};
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emu, Arc::new(MemoryStorage::new()), via);
    for top_level in [false, true] {
        if top_level {
            emu.inject_fault(
                Call::Authorize.path(),
                Fault::TopLevelError {
                    code: "authenticated_profile_missing".into(),
                },
                1,
            );
        }
        let before = emu.count(Call::Authorize.path());
        let form = if top_level { "top-level" } else { "item-level" };
        match client.authorize("Cablevision", "news").await {
            Ok(Decision::Deny { reason, error, .. }) => {
                assert_eq!(reason, DenyReason::ProfileMissing, "{form}, {via:?}");
                assert_eq!(error.status, 403, "{form}, {via:?}");
            }
            other => panic!("{form}, {via:?}: expected a Deny, got {other:?}"),
        }
        assert_eq!(
            emu.count(Call::Authorize.path()) - before,
            1,
            "{form}, {via:?}"
        );
    }
}

#[tokio::test]
async fn profile_missing_is_a_deny_in_either_form() {
    profile_missing_in_both_forms(Via::BuiltIn).await;
}

#[cfg(feature = "ffi")]
#[tokio::test]
async fn profile_missing_is_a_deny_in_either_form_through_the_foreign_transport() {
    profile_missing_in_both_forms(Via::Foreign).await;
    profile_missing_in_both_forms(Via::ForeignBlocking).await;
}
