//! `tvpass doctor`: the onboarding checks of an app team against a server (usually staging).
//! Each check passes or fails with the fix; no secret is printed.

use crate::human::now_ms;
use std::time::{Duration, Instant};
use tvpass::{DeviceInfo, Environment, MemoryStorage, PassClient, PassError};

/// The largest clock difference with the server that passes.
const MAX_SKEW_MS: i64 = 30_000;
/// The service's burst before it allows 1 request per second.
const BURST: u32 = 10;

/// One check's outcome.
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was seen.
    pub detail: String,
    /// What to do when it failed.
    pub fix: String,
}

impl Check {
    fn pass(name: &'static str, detail: String) -> Self {
        Self {
            name,
            ok: true,
            detail,
            fix: String::new(),
        }
    }

    fn fail(name: &'static str, detail: String, fix: &str) -> Self {
        Self {
            name,
            ok: false,
            detail,
            fix: fix.to_string(),
        }
    }
}

fn server_error_code(e: &PassError) -> String {
    e.enhanced().map(|x| x.code.clone()).unwrap_or_default()
}

/// Runs every check; stops after the first one that makes the rest meaningless.
pub async fn run(base: &str, service_provider: &str, software_statement: &str) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut requests = 0u32;

    // 1. The server answers at all; its Date header and whether it already throttles us.
    // The probe goes without credentials on purpose (it reads the 401's Date header); its own
    // User-Agent tells it apart from the SDK's requests in logs and in the contract tests.
    let http = match reqwest::Client::builder()
        .user_agent(concat!("tvpass-doctor/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            checks.push(Check::fail(
                "reach the service",
                format!("no HTTP client: {e}"),
                "report this",
            ));
            return checks;
        }
    };
    let url = format!(
        "{}/api/v2/{service_provider}/configuration",
        base.trim_end_matches('/')
    );
    let started = Instant::now();
    let answer = http.get(&url).send().await;
    requests += 1;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let what = if e.is_timeout() {
                "no answer within 10 s".to_string()
            } else if e.is_connect() {
                "the connection failed".to_string()
            } else {
                "the request failed".to_string()
            };
            checks.push(Check::fail(
                "reach the service",
                what,
                "check --base-url (staging: https://api.auth-staging.adobe.com), the network and any proxy",
            ));
            return checks;
        }
    };
    let status = answer.status().as_u16();
    checks.push(Check::pass(
        "reach the service",
        format!("HTTP {status} in {} ms", started.elapsed().as_millis()),
    ));

    // 2. Clock skew against the server's Date header.
    let date = answer
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok());
    match date {
        Some(d) => {
            // Date has whole seconds: compare with the middle of the request.
            let local = now_ms() - started.elapsed().as_millis() as i64 / 2;
            let skew = local - d.timestamp_millis();
            let detail = format!(
                "this machine is {:.1} s {} the server",
                skew.abs() as f64 / 1000.0,
                if skew >= 0 { "ahead of" } else { "behind" }
            );
            checks.push(if skew.abs() <= MAX_SKEW_MS + 1000 {
                Check::pass("clock", detail)
            } else {
                Check::fail(
                    "clock",
                    detail,
                    "set the device clock automatically (NTP): expiry of tokens, profiles and TempPass is the server's time",
                )
            });
        }
        None => checks.push(Check::fail(
            "clock",
            "the answer had no Date header".into(),
            "check that --base-url is the Adobe Pass service and not a proxy that strips headers",
        )),
    }

    // 3. Registration and an access token, with a throwaway storage.
    let client = PassClient::builder()
        .environment(Environment::Custom(base.to_string()))
        .service_provider(service_provider)
        .software_statement(software_statement)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("Desktop".into()),
            ..Default::default()
        })
        .storage(std::sync::Arc::new(MemoryStorage::new()))
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            checks.push(Check::fail(
                "settings",
                e.to_string(),
                "correct the named option",
            ));
            return checks;
        }
    };
    match client.warm_up().await {
        Ok(()) => {
            requests += 2;
            checks.push(Check::pass(
                "registration and token",
                "registered a client and obtained an access token".into(),
            ));
        }
        Err(e) => {
            let fix = match &e {
                PassError::RegistrationRejected(code) if code.contains("unapproved") => {
                    "approve the software statement in the TVE Dashboard"
                }
                PassError::RegistrationRejected(_) => {
                    "copy the software statement again from the TVE Dashboard, for this environment (staging and production statements differ)"
                }
                PassError::Throttled => "wait a minute: this address is being throttled",
                _ => "check the network and --base-url",
            };
            let detail = match &e {
                PassError::RegistrationRejected(code) => format!("registration refused: {code}"),
                other => other.to_string(),
            };
            checks.push(Check::fail("registration and token", detail, fix));
            return checks;
        }
    }

    // 4. The configuration of the service provider.
    match client.configuration().await {
        Ok(c) => {
            requests += 1;
            let temppass = c.mvpds.iter().filter(|m| m.is_temp_pass).count();
            checks.push(Check::pass(
                "configuration",
                format!(
                    "{} MVPDs ({temppass} TempPass, {} for the platform picker)",
                    c.mvpds.len(),
                    c.platform_picker_ids().len()
                ),
            ));
        }
        Err(e) => {
            let code = server_error_code(&e);
            let fix = match code.as_str() {
                "invalid_parameter_service_provider" => {
                    "check --service-provider: it is the requestor id from the TVE Dashboard"
                }
                "invalid_access_token_service_provider" => {
                    "the software statement belongs to another service provider: use the matching pair"
                }
                _ => "check --service-provider and the integration in the TVE Dashboard",
            };
            checks.push(Check::fail("configuration", e.to_string(), fix));
            return checks;
        }
    }

    // 5. Throttling headroom: the doctor's own requests against the service's burst.
    checks.push(if status == 429 {
        Check::fail(
            "throttling headroom",
            "the first request was answered 429: this address is over its limit".into(),
            "stop other clients behind this address, or send X-Forwarded-For from servers",
        )
    } else {
        Check::pass(
            "throttling headroom",
            format!(
                "{requests} of the {BURST}-request burst used, no 429; then 1 request/s (the SDK paces itself)"
            ),
        )
    });
    checks
}
