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

/// The endpoints, in the order of [`Endpoint`]'s index: the names of labels and spans.
const NAMES: [&str; 16] = [
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
    "logout",
    "other",
];

/// One endpoint of the REST API V2 (an index into the names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Endpoint(u8);

impl Endpoint {
    fn named(name: &str) -> Self {
        Self(
            NAMES
                .iter()
                .position(|n| *n == name)
                .unwrap_or(NAMES.len() - 1) as u8,
        )
    }

    /// The endpoint's name: a label value and, as `tvpass.<name>`, a span's name.
    #[cfg(test)]
    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0)]
    }
}

/// The endpoint of a request path. The path's own segments (service provider, MVPD, code)
/// never leave this function.
pub(crate) fn endpoint(method: &http::Method, path: &str) -> Endpoint {
    Endpoint::named(endpoint_name(method, path))
}

fn endpoint_name(method: &http::Method, path: &str) -> &'static str {
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
    ($($index:literal $name:literal),*) => {
        /// The span of one call to `endpoint` (its retries included), named `tvpass.<endpoint>`.
        pub(crate) fn span(endpoint: Endpoint) -> tracing::Span {
            match endpoint.0 {
                $($index => tracing::info_span!(concat!("tvpass.", $name)),)*
                _ => tracing::info_span!("tvpass.other"),
            }
        }
    };
}

spans!(
    0 "register",
    1 "token",
    2 "temppass_reset",
    3 "configuration",
    4 "sessions_create",
    5 "sessions_resume",
    6 "sessions_retrieve",
    7 "partner_sessions",
    8 "partner_profiles",
    9 "profiles",
    10 "profiles_code",
    11 "profiles_mvpd",
    12 "authorize",
    13 "preauthorize",
    14 "logout"
);

/// How a request ended, as the `class` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Status(u16),
    Timeout,
    Network,
}

#[cfg_attr(not(feature = "service"), allow(dead_code))]
impl Class {
    const NAMES: [&'static str; 6] = ["2xx", "3xx", "4xx", "5xx", "timeout", "network"];

    fn index(self) -> usize {
        match self {
            Class::Status(200..=299) => 0,
            Class::Status(300..=399) => 1,
            Class::Status(400..=499) => 2,
            Class::Status(_) => 3,
            Class::Timeout => 4,
            Class::Network => 5,
        }
    }
}

#[cfg(feature = "service")]
mod record {
    //! Each series' handle is registered with the recorder once, on first use, and kept: a
    //! record is then an atomic add, without building the key and looking it up each time. So
    //! install the recorder before the first call of a service.
    use super::{Class, Endpoint, NAMES};
    use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};
    use std::sync::OnceLock;

    type Handles<T, const N: usize> = [OnceLock<T>; N];

    struct Series {
        requests: Handles<Counter, { 16 * 6 }>,
        calls: Handles<Counter, 16>,
        retries: Handles<Counter, 16>,
        cache: Handles<Counter, 4>,
        budget_refusals: OnceLock<Counter>,
        fail_fast_refusals: OnceLock<Counter>,
        fail_fast_open: OnceLock<Gauge>,
        throttled: OnceLock<Counter>,
        pacing_waits: OnceLock<Counter>,
        pacing_wait_seconds: OnceLock<Histogram>,
        cached_devices: OnceLock<Gauge>,
        cached_bytes: OnceLock<Gauge>,
        #[cfg(feature = "redis")]
        redis: Handles<Counter, 4>,
    }

    static SERIES: Series = Series {
        requests: [const { OnceLock::new() }; 16 * 6],
        calls: [const { OnceLock::new() }; 16],
        retries: [const { OnceLock::new() }; 16],
        cache: [const { OnceLock::new() }; 4],
        budget_refusals: OnceLock::new(),
        fail_fast_refusals: OnceLock::new(),
        fail_fast_open: OnceLock::new(),
        throttled: OnceLock::new(),
        pacing_waits: OnceLock::new(),
        pacing_wait_seconds: OnceLock::new(),
        cached_devices: OnceLock::new(),
        cached_bytes: OnceLock::new(),
        #[cfg(feature = "redis")]
        redis: [const { OnceLock::new() }; 4],
    };

    pub fn request(endpoint: Endpoint, class: Class) {
        let (e, c) = (usize::from(endpoint.0), class.index());
        SERIES.requests[e * 6 + c]
            .get_or_init(|| {
                counter!("tvpass_requests_total", "endpoint" => NAMES[e], "class" => Class::NAMES[c])
            })
            .increment(1);
    }
    pub fn call(endpoint: Endpoint) {
        let e = usize::from(endpoint.0);
        SERIES.calls[e]
            .get_or_init(|| counter!("tvpass_calls_total", "endpoint" => NAMES[e]))
            .increment(1);
    }
    pub fn retry(endpoint: Endpoint) {
        let e = usize::from(endpoint.0);
        SERIES.retries[e]
            .get_or_init(|| counter!("tvpass_retries_total", "endpoint" => NAMES[e]))
            .increment(1);
    }
    pub fn budget_refusal() {
        SERIES
            .budget_refusals
            .get_or_init(|| counter!("tvpass_retry_budget_refusals_total"))
            .increment(1);
    }
    pub fn fail_fast_refusal() {
        SERIES
            .fail_fast_refusals
            .get_or_init(|| counter!("tvpass_fail_fast_refusals_total"))
            .increment(1);
    }
    pub fn fail_fast_open(open: bool) {
        SERIES
            .fail_fast_open
            .get_or_init(|| gauge!("tvpass_fail_fast_open"))
            .set(if open { 1.0 } else { 0.0 });
    }
    pub fn throttled() {
        SERIES
            .throttled
            .get_or_init(|| counter!("tvpass_throttled_total"))
            .increment(1);
    }
    pub fn pacing_wait(waited: std::time::Duration) {
        SERIES
            .pacing_waits
            .get_or_init(|| counter!("tvpass_pacing_waits_total"))
            .increment(1);
        SERIES
            .pacing_wait_seconds
            .get_or_init(|| histogram!("tvpass_pacing_wait_seconds"))
            .record(waited.as_secs_f64());
    }
    pub fn cache(kind: &'static str, hit: bool, n: usize) {
        if n == 0 {
            return;
        }
        let k = usize::from(kind == "permits") * 2 + usize::from(hit);
        SERIES.cache[k]
            .get_or_init(|| {
                let result = if hit { "hit" } else { "miss" };
                counter!("tvpass_cache_total", "kind" => kind, "result" => result)
            })
            .increment(n as u64);
    }
    #[cfg(feature = "redis")]
    fn redis(i: usize, name: &'static str) {
        SERIES.redis[i].get_or_init(|| counter!(name)).increment(1);
    }
    #[cfg(feature = "redis")]
    pub fn redis_round_trip() {
        redis(0, "tvpass_redis_round_trips_total");
    }
    #[cfg(feature = "redis")]
    pub fn redis_timeout() {
        redis(1, "tvpass_redis_timeouts_total");
    }
    #[cfg(feature = "redis")]
    pub fn redis_fallback() {
        redis(2, "tvpass_redis_fallbacks_total");
    }
    #[cfg(feature = "redis")]
    pub fn redis_unreadable() {
        redis(3, "tvpass_redis_unreadable_total");
    }
    pub fn cached(devices: usize, bytes: usize) {
        SERIES
            .cached_devices
            .get_or_init(|| gauge!("tvpass_cached_devices"))
            .set(devices as f64);
        SERIES
            .cached_bytes
            .get_or_init(|| gauge!("tvpass_cached_bytes"))
            .set(bytes as f64);
    }
}

#[cfg(not(feature = "service"))]
#[allow(dead_code)]
mod record {
    use super::{Class, Endpoint};
    pub fn request(_: Endpoint, _: Class) {}
    pub fn call(_: Endpoint) {}
    pub fn retry(_: Endpoint) {}
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
    use super::{endpoint, span, Endpoint, NAMES};
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
            assert_eq!(endpoint(&method, path).name(), name, "{method} {path}");
        }
    }

    #[test]
    fn every_endpoint_has_its_own_span() {
        for (i, name) in NAMES.iter().enumerate() {
            let e = Endpoint(i as u8);
            assert_eq!(e.name(), *name);
            let span = span(e);
            if let Some(meta) = span.metadata() {
                assert_eq!(meta.name(), format!("tvpass.{name}"));
            }
        }
    }
}
