//! What a service tells its operators: counters and gauges through the `metrics` facade
//! (feature `service`; a device's build records nothing), and the name of each endpoint for
//! spans and labels. Every metric is named here, and no label carries a device id, an address,
//! a path segment or any user value: labels are endpoint names, status classes and kinds.
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `tvpass_requests_total` | `endpoint`, `class` | requests sent, by answer (`2xx` to `5xx`, `timeout`, `network`) |
//! | `tvpass_calls_total` | `endpoint` | calls (a call's first attempt) |
//! | `tvpass_retries_total` | `endpoint` | attempts after the first |
//! | `tvpass_retry_budget_refusals_total` | | retries the budget refused |
//! | `tvpass_fail_fast_refusals_total` | | calls refused while failing fast |
//! | `tvpass_fail_fast_open` | | 1 while failing fast, else 0 |
//! | `tvpass_throttled_total` | | 429 answers |
//! | `tvpass_pacing_waits_total`, `tvpass_pacing_wait_seconds` | | requests that waited for their device's pace, and how long (a summary) |
//! | `tvpass_cache_total` | `kind` (`profiles`, `permits`), `result` (`hit`, `miss`) | answers from a device's cache, or not |
//! | `tvpass_redis_round_trips_total`, `tvpass_redis_timeouts_total`, `tvpass_redis_fallbacks_total` | | Redis commands, those without an answer in time, and outages served from local state |
//! | `tvpass_redis_unreadable_total` | | Redis values that did not open under the fleet's keys |
//! | `tvpass_cached_devices`, `tvpass_cached_bytes` | | devices and bytes of device state kept |

/// The endpoint of a request path, as a fixed name: the label of its metrics and the name of
/// its span. The path's own segments (service provider, MVPD, code) never leave this function.
pub(crate) fn endpoint(method: &http::Method, path: &str) -> &'static str {
    let rest = match path.strip_prefix("/api/v2/") {
        Some(rest) => rest,
        None => {
            return if path.starts_with("/o/client/register") {
                "register"
            } else if path.starts_with("/o/client/token") {
                "token"
            } else if path.starts_with("/reset-tempass/") {
                "temppass_reset"
            } else {
                "other"
            }
        }
    };
    if rest.starts_with("sessions/") {
        return "sessions_retrieve";
    }
    // After the service provider: the area, then what it names.
    let mut parts = rest.split('/').skip(1);
    let post = method == http::Method::POST;
    match (parts.next(), parts.next()) {
        (Some("configuration"), _) => "configuration",
        (Some("sessions"), None) => "sessions_create",
        (Some("sessions"), Some("sso")) => "partner_sessions",
        (Some("sessions"), Some(_)) if post => "sessions_resume",
        (Some("sessions"), Some(_)) => "sessions_retrieve",
        (Some("profiles"), None) => "profiles",
        (Some("profiles"), Some("code")) => "profiles_code",
        (Some("profiles"), Some("sso")) => "partner_profiles",
        (Some("profiles"), Some(_)) => "profiles_mvpd",
        (Some("decisions"), Some("authorize")) => "authorize",
        (Some("decisions"), Some("preauthorize")) => "preauthorize",
        (Some("logout"), _) => "logout",
        _ => "other",
    }
}

macro_rules! spans {
    ($($name:literal),*) => {
        /// The span of one call to `endpoint` (its retries included), named `tvpass.<endpoint>`.
        pub(crate) fn span(endpoint: &'static str) -> tracing::Span {
            match endpoint {
                $($name => tracing::info_span!(concat!("tvpass.", $name)),)*
                _ => tracing::info_span!("tvpass.other"),
            }
        }
    };
}

spans!(
    "register",
    "token",
    "temppass_reset",
    "configuration",
    "sessions_create",
    "sessions_resume",
    "sessions_retrieve",
    "partner_sessions",
    "partner_profiles",
    "profiles",
    "profiles_code",
    "profiles_mvpd",
    "authorize",
    "preauthorize",
    "logout"
);

/// The status class label of an answer.
pub(crate) fn class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(feature = "service")]
mod record {
    use metrics::{counter, gauge, histogram};

    pub fn request(endpoint: &'static str, class: &'static str) {
        counter!("tvpass_requests_total", "endpoint" => endpoint, "class" => class).increment(1);
    }
    pub fn call(endpoint: &'static str) {
        counter!("tvpass_calls_total", "endpoint" => endpoint).increment(1);
    }
    pub fn retry(endpoint: &'static str) {
        counter!("tvpass_retries_total", "endpoint" => endpoint).increment(1);
    }
    pub fn budget_refusal() {
        counter!("tvpass_retry_budget_refusals_total").increment(1);
    }
    pub fn fail_fast_refusal() {
        counter!("tvpass_fail_fast_refusals_total").increment(1);
    }
    pub fn fail_fast_open(open: bool) {
        gauge!("tvpass_fail_fast_open").set(if open { 1.0 } else { 0.0 });
    }
    pub fn throttled() {
        counter!("tvpass_throttled_total").increment(1);
    }
    pub fn pacing_wait(waited: std::time::Duration) {
        counter!("tvpass_pacing_waits_total").increment(1);
        histogram!("tvpass_pacing_wait_seconds").record(waited.as_secs_f64());
    }
    pub fn cache(kind: &'static str, hit: bool, n: usize) {
        if n == 0 {
            return;
        }
        let result = if hit { "hit" } else { "miss" };
        counter!("tvpass_cache_total", "kind" => kind, "result" => result).increment(n as u64);
    }
    #[cfg(feature = "redis")]
    pub fn redis_round_trip() {
        counter!("tvpass_redis_round_trips_total").increment(1);
    }
    #[cfg(feature = "redis")]
    pub fn redis_timeout() {
        counter!("tvpass_redis_timeouts_total").increment(1);
    }
    #[cfg(feature = "redis")]
    pub fn redis_fallback() {
        counter!("tvpass_redis_fallbacks_total").increment(1);
    }
    #[cfg(feature = "redis")]
    pub fn redis_unreadable() {
        counter!("tvpass_redis_unreadable_total").increment(1);
    }
    pub fn cached(devices: usize, bytes: usize) {
        gauge!("tvpass_cached_devices").set(devices as f64);
        gauge!("tvpass_cached_bytes").set(bytes as f64);
    }
}

#[cfg(not(feature = "service"))]
#[allow(dead_code)]
mod record {
    pub fn request(_: &'static str, _: &'static str) {}
    pub fn call(_: &'static str) {}
    pub fn retry(_: &'static str) {}
    pub fn budget_refusal() {}
    pub fn fail_fast_refusal() {}
    pub fn fail_fast_open(_: bool) {}
    pub fn throttled() {}
    pub fn pacing_wait(_: std::time::Duration) {}
    pub fn cache(_: &'static str, _: bool, _: usize) {}
}

pub(crate) use record::*;

#[cfg(test)]
mod tests {
    use super::endpoint;
    use http::Method;

    #[test]
    fn endpoints_name_no_segment_of_the_path() {
        let cases = [
            (Method::POST, "/o/client/register", "register"),
            (Method::POST, "/o/client/token?x=1", "token"),
            (Method::GET, "/api/v2/REF30/configuration", "configuration"),
            (Method::POST, "/api/v2/REF30/sessions", "sessions_create"),
            (
                Method::POST,
                "/api/v2/REF30/sessions/AB12",
                "sessions_resume",
            ),
            (
                Method::GET,
                "/api/v2/REF30/sessions/AB12",
                "sessions_retrieve",
            ),
            (
                Method::GET,
                "/api/v2/sessions/REF30/AB12",
                "sessions_retrieve",
            ),
            (
                Method::POST,
                "/api/v2/REF30/sessions/sso/Apple",
                "partner_sessions",
            ),
            (
                Method::POST,
                "/api/v2/REF30/profiles/sso/Apple",
                "partner_profiles",
            ),
            (Method::GET, "/api/v2/REF30/profiles", "profiles"),
            (
                Method::GET,
                "/api/v2/REF30/profiles/code/AB12",
                "profiles_code",
            ),
            (
                Method::GET,
                "/api/v2/REF30/profiles/Cablevision",
                "profiles_mvpd",
            ),
            (
                Method::POST,
                "/api/v2/REF30/decisions/authorize/Cablevision",
                "authorize",
            ),
            (
                Method::POST,
                "/api/v2/REF30/decisions/preauthorize/X",
                "preauthorize",
            ),
            (Method::GET, "/api/v2/REF30/logout/Cablevision", "logout"),
            (
                Method::DELETE,
                "/reset-tempass/v3/reset/generic",
                "temppass_reset",
            ),
            (Method::GET, "/somewhere/else", "other"),
        ];
        for (method, path, name) in cases {
            assert_eq!(endpoint(&method, path), name, "{method} {path}");
        }
    }
}
