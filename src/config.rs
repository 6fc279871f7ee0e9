//! Settings of a [`crate::PassClient`]: environment, device, and the policies with their defaults.

use crate::error::PassError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use std::time::Duration;
use url::Url;

/// Which service to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// `https://api.auth.adobe.com` (management: `https://mgmt.auth.adobe.com`).
    Production,
    /// `https://api.auth-staging.adobe.com` (management: `https://mgmt-prequal.auth-staging.adobe.com`).
    Staging,
    /// Any base URL (emulator, proxy). Plain `http` is accepted only for loopback hosts.
    Custom(String),
}

impl Environment {
    /// The REST API V2 and DCR base URL.
    pub fn api_base(&self) -> &str {
        match self {
            Environment::Production => "https://api.auth.adobe.com",
            Environment::Staging => "https://api.auth-staging.adobe.com",
            Environment::Custom(u) => u,
        }
    }

    /// The management (TempPass reset) base URL.
    pub fn management_base(&self) -> &str {
        match self {
            Environment::Production => "https://mgmt.auth.adobe.com",
            Environment::Staging => "https://mgmt-prequal.auth-staging.adobe.com",
            Environment::Custom(u) => u,
        }
    }
}

/// Checks a base URL: absolute, `https` (or `http` to a loopback host), no query or fragment.
/// Returns it without a trailing slash.
pub(crate) fn check_base_url(setting: &'static str, raw: &str) -> Result<String, PassError> {
    let url = Url::parse(raw).map_err(|e| PassError::config(setting, format!("not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(PassError::config(setting, "the URL has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(PassError::config(
                setting,
                "plain http is only allowed for loopback hosts; use https",
            ))
        }
        s => {
            return Err(PassError::config(
                setting,
                format!("unsupported scheme {s}"),
            ))
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(PassError::config(
            setting,
            "the base URL must not have a query or fragment",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Restricted values of `primaryHardwareType`.
pub const HARDWARE_TYPES: &[&str] = &[
    "Camera",
    "DataCollectionTerminal",
    "Desktop",
    "EmbeddedNetworkModule",
    "eReader",
    "GamesConsole",
    "GeolocationTracker",
    "Glasses",
    "MediaPlayer",
    "MobilePhone",
    "PaymentTerminal",
    "PluginModem",
    "SetTopBox",
    "TV",
    "Tablet",
    "WirelessHotspot",
    "Wristwatch",
    "Unknown",
];

/// Restricted values of `osName`.
pub const OS_NAMES: &[&str] = &[
    "Android",
    "Chrome OS",
    "Linux",
    "Mac OS",
    "OS X",
    "OpenBSD",
    "Roku OS",
    "Windows",
    "iOS",
    "tvOS",
    "webOS",
];

/// What the device says about itself; sent as the `X-Device-Info` header (base64 of this JSON).
///
/// Only set fields are sent. `primary_hardware_type` and `os_name` take the documented
/// restricted values (see [`HARDWARE_TYPES`], [`OS_NAMES`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "service", derive(serde::Deserialize))]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    /// e.g. `SetTopBox`, `TV`, `MobilePhone`, `Tablet`, `GamesConsole`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_hardware_type: Option<String>,
    /// e.g. `AppleTV`, `SM-G930V`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Device version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// e.g. `Apple`, `Samsung`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// e.g. `Apple`, `Google`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// e.g. `tvOS`, `Android`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    /// e.g. `tvOS`, `Android`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// e.g. `Apple`, `Google`, `Amazon`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_vendor: Option<String>,
    /// e.g. `17.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// Browser name (web views).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_name: Option<String>,
    /// Browser vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_vendor: Option<String>,
    /// Browser version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_version: Option<String>,
    /// The device's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Screen width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_width: Option<u32>,
    /// Screen height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_height: Option<u32>,
    /// Pixel density.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_ppi: Option<u32>,
    /// Diagonal in inches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagonal_screen_size: Option<String>,
    /// Connection IP (server-to-server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_ip: Option<String>,
    /// Connection port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_port: Option<u16>,
    /// e.g. `WiFi`, `cellular`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    /// Whether the connection is secure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_secure: Option<bool>,
    /// The application's identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}

/// The longest `X-Device-Info` value (base64) the SDK sends or reads: 8 KiB.
pub const MAX_DEVICE_INFO: usize = 8 * 1024;

impl DeviceInfo {
    /// The `X-Device-Info` value, refused past [`MAX_DEVICE_INFO`].
    pub(crate) fn checked_header_value(&self) -> Result<String, PassError> {
        let value = self.header_value();
        if value.len() > MAX_DEVICE_INFO {
            return Err(PassError::config("device_info", "longer than 8 KiB"));
        }
        Ok(value)
    }

    pub(crate) fn validate(&self) -> Result<(), PassError> {
        if let Some(h) = &self.primary_hardware_type {
            if !HARDWARE_TYPES.contains(&h.as_str()) {
                return Err(PassError::config(
                    "device_info.primary_hardware_type",
                    format!("{h} is not one of the documented values"),
                ));
            }
        }
        if let Some(o) = &self.os_name {
            if !OS_NAMES.contains(&o.as_str()) {
                return Err(PassError::config(
                    "device_info.os_name",
                    format!("{o} is not one of the documented values"),
                ));
            }
        }
        Ok(())
    }

    /// The `X-Device-Info` header value.
    pub fn header_value(&self) -> String {
        STANDARD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads an `X-Device-Info` value (base64 of the JSON object), as a device sends it to a
    /// programmer's service that forwards it. Unknown fields are ignored; a value that is not
    /// base64 of a JSON object, is longer than 8 KiB, or uses undocumented restricted values
    /// is refused with [`PassError::InvalidConfiguration`] naming `device_info`. (Feature
    /// `service`.)
    #[cfg(feature = "service")]
    pub fn from_header_value(value: &str) -> Result<Self, PassError> {
        if value.len() > MAX_DEVICE_INFO {
            return Err(PassError::config("device_info", "longer than 8 KiB"));
        }
        let json = STANDARD
            .decode(value.trim())
            .map_err(|_| PassError::config("device_info", "not base64"))?;
        let info: Self = serde_json::from_slice(&json)
            .map_err(|_| PassError::config("device_info", "not a device information object"))?;
        info.validate()?;
        info.checked_header_value()?;
        Ok(info)
    }
}

/// How failed requests are retried. Only transient failures are retried: connection errors,
/// timeouts, 5xx, 429 and enhanced errors with action `retry`. A 429 or 503 with `Retry-After`
/// (delta-seconds or an IMF-fixdate; other values are ignored) is retried after that wait if it
/// is longer than the backoff, at most 30 s; a wait past the deadline ends the call with the
/// error it got. After a 429 the device sends nothing for at least a second.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Most attempts per request, the first included (1 to 5; default 3).
    pub max_attempts: u32,
    /// First backoff (default 200 ms); doubles each retry, with full jitter.
    pub initial_backoff: Duration,
    /// Largest backoff (default 2 s).
    pub max_backoff: Duration,
    /// Overall deadline of one call, retries and waits included (default 30 s).
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            deadline: Duration::from_secs(30),
        }
    }
}

/// The client-side mirror of the service's throttle: a token bucket per client.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second (default 1, as the service).
    pub requests_per_second: f64,
    /// Burst on top of it (default 10, as the service).
    pub burst: u32,
    /// Whether the SDK paces its own requests (default true).
    pub enabled: bool,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            requests_per_second: 1.0,
            burst: 10,
            enabled: true,
        }
    }
}

/// A service's budget for retries, shared by all its devices: retries may add at most `ratio`
/// of the calls of the last 10 seconds, or `min_per_second` a second over those 10 seconds if
/// that is more (so that a quiet service still retries). With the budget spent, a call fails
/// after its first attempt with the error it got. A single-device client has no budget.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryBudget {
    /// Retries per call, over the last 10 s (0 to 1; default 0.1).
    pub ratio: f64,
    /// Retries a second a quiet service may always make (0 to 1,000; default 5).
    pub min_per_second: f64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            ratio: 0.1,
            min_per_second: 5.0,
        }
    }
}

impl RetryBudget {
    #[cfg(feature = "service")]
    pub(crate) fn check(&self) -> Result<(), PassError> {
        if !(0.0..=1.0).contains(&self.ratio) {
            return Err(PassError::config("retry_budget.ratio", "must be 0 to 1"));
        }
        if !(0.0..=1000.0).contains(&self.min_per_second) {
            return Err(PassError::config(
                "retry_budget.min_per_second",
                "must be 0 to 1,000",
            ));
        }
        Ok(())
    }
}

/// When a service stops sending while Adobe Pass is down: after `failures` failed requests in
/// a row across the service (5xx, timeouts, connection errors; never a Deny, a 4xx or a 429),
/// calls fail at once with [`PassError::Unavailable`] for `cool_down` (plus up to half of it
/// again, at random, so that a fleet's instances do not probe together). Then up to `probes`
/// calls go through; when they all succeed, traffic resumes, and when one fails, the cool-down
/// starts again. A single-device client never fails fast.
#[derive(Debug, Clone, PartialEq)]
pub struct FailFast {
    /// Whether the service fails fast at all (default true).
    pub enabled: bool,
    /// Failed requests in a row that stop traffic (2 to 10,000; default 20).
    pub failures: u32,
    /// The wait before probes (100 ms to 5 min; default 1 s).
    pub cool_down: Duration,
    /// Successful probes that resume traffic (1 to 100; default 3).
    pub probes: u32,
}

impl Default for FailFast {
    fn default() -> Self {
        Self {
            enabled: true,
            failures: 20,
            cool_down: Duration::from_secs(1),
            probes: 3,
        }
    }
}

impl FailFast {
    /// Never fail fast: every call makes its attempts.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    #[cfg(feature = "service")]
    pub(crate) fn check(&self) -> Result<(), PassError> {
        if !(2..=10_000).contains(&self.failures) {
            return Err(PassError::config(
                "fail_fast.failures",
                "must be 2 to 10,000",
            ));
        }
        if self.cool_down < Duration::from_millis(100) || self.cool_down > Duration::from_secs(300)
        {
            return Err(PassError::config(
                "fail_fast.cool_down",
                "must be 100 ms to 5 min",
            ));
        }
        if !(1..=100).contains(&self.probes) {
            return Err(PassError::config("fail_fast.probes", "must be 1 to 100"));
        }
        Ok(())
    }
}
