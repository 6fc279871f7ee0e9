//! The gateway's settings, from the environment, checked before it serves: a missing required
//! setting, or one that would make it fail open, stops the gateway with one line naming it.

use crate::proxy::TrustedProxies;
use std::time::Duration;
use tvpass::{Environment, PassError, PassService};

/// What the environment sets.
///
/// | variable | what | default |
/// |---|---|---|
/// | `TVPASS_BASE_URL` | Adobe Pass's base URL | required (unless `GATEWAY_EMULATOR=1`) |
/// | `GATEWAY_EMULATOR` | `1`: serve from the in-process emulator, which answers Permit to all; reported on every health answer | off |
/// | `TVPASS_SERVICE_PROVIDER`, `TVPASS_SOFTWARE_STATEMENT` | the registration | required with `TVPASS_BASE_URL` |
/// | `GATEWAY_DEVICE_KEY` | signs the devices' tokens: 32 bytes, base64 | required |
/// | `GATEWAY_DEVICE_PREVIOUS_KEYS` | older keys, comma-separated, still accepted | none |
/// | `GATEWAY_ADDR` | where devices call | `127.0.0.1:8088` |
/// | `GATEWAY_ADMIN_ADDR` | `/metrics` and `/healthz` | `127.0.0.1:9090` |
/// | `GATEWAY_TRUSTED_PROXIES` | addresses and CIDRs of the proxies in front, comma-separated | none |
/// | `GATEWAY_REQUEST_TIMEOUT_MS` | a device call's longest | 35,000 |
/// | `GATEWAY_HEADER_TIMEOUT_MS` | the longest a connection takes to send a request's headers | 5,000 |
/// | `GATEWAY_IDLE_TIMEOUT_MS` | the longest a connection stays open with no request | 60,000 |
/// | `GATEWAY_MAX_CONNECTIONS` | open device connections | 10,000 |
/// | `GATEWAY_MAX_IN_FLIGHT` | device calls being answered at once | 2,048 |
/// | `GATEWAY_MAX_RESOURCES` | resources of one `preauthorize` | 50 |
/// | `GATEWAY_ENROLMENTS_PER_MINUTE` | `POST /v1/devices` per source address | 10 |
/// | `TVPASS_REDIS_URL` | a fleet: `rediss://` (TLS), or `redis://` on loopback | none |
/// | `TVPASS_REDIS_INSECURE` | `1`: `redis://` to a host that is not loopback | off |
/// | `TVPASS_FLEET_KEY` | the key sealing the fleet's values: 32 bytes, base64 | required with Redis |
/// | `TVPASS_FLEET_PREVIOUS_KEYS` | older keys, comma-separated, still read | none |
/// | `TVPASS_INSECURE_PLAINTEXT` | `1`: a fleet without a key keeps values in plain text | off |
/// | `TVPASS_FLEET_INSTANCES` | instances in the fleet | 1 |
#[derive(Clone)]
pub struct Settings {
    /// `TVPASS_BASE_URL`.
    pub base_url: Option<String>,
    /// `GATEWAY_EMULATOR`.
    pub emulator: bool,
    /// `TVPASS_SERVICE_PROVIDER`.
    pub service_provider: Option<String>,
    /// `TVPASS_SOFTWARE_STATEMENT`.
    pub software_statement: Option<String>,
    /// `GATEWAY_DEVICE_KEY`.
    pub device_key: Option<String>,
    /// `GATEWAY_DEVICE_PREVIOUS_KEYS`.
    pub device_previous_keys: Vec<String>,
    /// `GATEWAY_ADDR`.
    pub addr: String,
    /// `GATEWAY_ADMIN_ADDR`.
    pub admin_addr: String,
    /// `GATEWAY_TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
    /// The limits of device connections and calls.
    pub limits: Limits,
    /// `TVPASS_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `TVPASS_REDIS_INSECURE`.
    pub redis_insecure: bool,
    /// `TVPASS_FLEET_KEY`.
    pub fleet_key: Option<String>,
    /// `TVPASS_FLEET_PREVIOUS_KEYS`.
    pub fleet_previous_keys: Vec<String>,
    /// `TVPASS_INSECURE_PLAINTEXT`.
    pub insecure_plaintext: bool,
    /// `TVPASS_FLEET_INSTANCES`.
    pub fleet_instances: Option<u32>,
}

/// What a caller can hold of the gateway, each with its setting (see [`Settings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `GATEWAY_REQUEST_TIMEOUT_MS`: a device call's longest, then 408.
    pub request_timeout: Duration,
    /// `GATEWAY_HEADER_TIMEOUT_MS`: a request's headers must arrive within it, counted from
    /// when the connection is ready for the request; else the connection is closed.
    pub header_timeout: Duration,
    /// `GATEWAY_IDLE_TIMEOUT_MS`: a connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// `GATEWAY_MAX_CONNECTIONS`: connections past it are closed as they arrive.
    pub max_connections: usize,
    /// `GATEWAY_MAX_IN_FLIGHT`: calls past it are answered 503 `busy` at once.
    pub max_in_flight: usize,
    /// `GATEWAY_MAX_RESOURCES`: a longer `preauthorize` list is a 400.
    pub max_resources: usize,
    /// `GATEWAY_ENROLMENTS_PER_MINUTE`: enrolments of one source address, then 429.
    pub enrolments_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(35),
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_in_flight: 2_048,
            max_resources: 50,
            enrolments_per_minute: 10,
        }
    }
}

impl Limits {
    /// Checks each limit against its bounds.
    pub fn check(&self) -> Result<(), String> {
        let ms = |d: Duration| d.as_millis() as u64;
        let within = |name: &str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name}: {v} is outside {lo}..={hi}"))
            }
        };
        within(
            "GATEWAY_REQUEST_TIMEOUT_MS",
            ms(self.request_timeout),
            100,
            600_000,
        )?;
        within(
            "GATEWAY_HEADER_TIMEOUT_MS",
            ms(self.header_timeout),
            100,
            60_000,
        )?;
        within(
            "GATEWAY_IDLE_TIMEOUT_MS",
            ms(self.idle_timeout),
            100,
            3_600_000,
        )?;
        within(
            "GATEWAY_MAX_CONNECTIONS",
            self.max_connections as u64,
            1,
            1_000_000,
        )?;
        within(
            "GATEWAY_MAX_IN_FLIGHT",
            self.max_in_flight as u64,
            1,
            1_000_000,
        )?;
        within("GATEWAY_MAX_RESOURCES", self.max_resources as u64, 1, 1_000)?;
        within(
            "GATEWAY_ENROLMENTS_PER_MINUTE",
            u64::from(self.enrolments_per_minute),
            1,
            100_000,
        )
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Redis URL may hold a password, the statement and the keys are secrets.
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("emulator", &self.emulator)
            .field("addr", &self.addr)
            .field("admin_addr", &self.admin_addr)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("limits", &self.limits)
            .field("fleet", &self.redis_url.is_some())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The settings of the environment variables (see the table above), checked.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings of `var` (a variable's value by its name), checked: every refusal names
    /// the variable to set.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let env = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let flag = |name: &str| -> Result<bool, String> {
            match env(name).as_deref() {
                None | Some("0") | Some("false") => Ok(false),
                Some("1") | Some("true") => Ok(true),
                Some(_) => Err(format!("{name}: 1 or 0")),
            }
        };
        let number = |name: &str| -> Result<Option<u64>, String> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{name}: not a number"))
                })
                .transpose()
        };
        let list = |name: &str| -> Vec<String> {
            env(name)
                .map(|v| {
                    v.split(',')
                        .map(|k| k.trim().to_string())
                        .filter(|k| !k.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        if env("GATEWAY_BEHIND_PROXY").is_some() {
            return Err("GATEWAY_BEHIND_PROXY is no longer read: set GATEWAY_TRUSTED_PROXIES to the addresses or CIDRs of the proxies in front".into());
        }
        let defaults = Limits::default();
        let ms = |name: &str, default: Duration| -> Result<Duration, String> {
            Ok(number(name)?.map(Duration::from_millis).unwrap_or(default))
        };
        let count = |name: &str, default: usize| -> Result<usize, String> {
            Ok(number(name)?.map(|n| n as usize).unwrap_or(default))
        };
        let limits = Limits {
            request_timeout: ms("GATEWAY_REQUEST_TIMEOUT_MS", defaults.request_timeout)?,
            header_timeout: ms("GATEWAY_HEADER_TIMEOUT_MS", defaults.header_timeout)?,
            idle_timeout: ms("GATEWAY_IDLE_TIMEOUT_MS", defaults.idle_timeout)?,
            max_connections: count("GATEWAY_MAX_CONNECTIONS", defaults.max_connections)?,
            max_in_flight: count("GATEWAY_MAX_IN_FLIGHT", defaults.max_in_flight)?,
            max_resources: count("GATEWAY_MAX_RESOURCES", defaults.max_resources)?,
            enrolments_per_minute: number("GATEWAY_ENROLMENTS_PER_MINUTE")?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
                .unwrap_or(defaults.enrolments_per_minute),
        };
        limits.check()?;
        let settings = Self {
            base_url: env("TVPASS_BASE_URL"),
            emulator: flag("GATEWAY_EMULATOR")?,
            service_provider: env("TVPASS_SERVICE_PROVIDER"),
            software_statement: env("TVPASS_SOFTWARE_STATEMENT"),
            device_key: env("GATEWAY_DEVICE_KEY"),
            device_previous_keys: list("GATEWAY_DEVICE_PREVIOUS_KEYS"),
            addr: env("GATEWAY_ADDR").unwrap_or_else(|| "127.0.0.1:8088".into()),
            admin_addr: env("GATEWAY_ADMIN_ADDR").unwrap_or_else(|| "127.0.0.1:9090".into()),
            trusted_proxies: TrustedProxies::parse(
                &env("GATEWAY_TRUSTED_PROXIES").unwrap_or_default(),
            )?,
            limits,
            redis_url: env("TVPASS_REDIS_URL"),
            redis_insecure: flag("TVPASS_REDIS_INSECURE")?,
            fleet_key: env("TVPASS_FLEET_KEY"),
            fleet_previous_keys: list("TVPASS_FLEET_PREVIOUS_KEYS"),
            insecure_plaintext: flag("TVPASS_INSECURE_PLAINTEXT")?,
            fleet_instances: number("TVPASS_FLEET_INSTANCES")?
                .map(|n| u32::try_from(n).map_err(|_| "TVPASS_FLEET_INSTANCES: too large"))
                .transpose()?,
        };
        settings.check()?;
        Ok(settings)
    }

    /// Refuses settings that would fail open.
    pub fn check(&self) -> Result<(), String> {
        match (&self.base_url, self.emulator) {
            (None, false) => {
                return Err("TVPASS_BASE_URL is required (Adobe Pass's base URL); GATEWAY_EMULATOR=1 serves from the in-process emulator instead, for development only".into())
            }
            (Some(_), true) => {
                return Err("TVPASS_BASE_URL and GATEWAY_EMULATOR=1 are both set: choose one".into())
            }
            (Some(_), false) => {
                for (name, v) in [
                    ("TVPASS_SERVICE_PROVIDER", &self.service_provider),
                    ("TVPASS_SOFTWARE_STATEMENT", &self.software_statement),
                ] {
                    if v.is_none() {
                        return Err(format!("{name} is required with TVPASS_BASE_URL"));
                    }
                }
            }
            (None, true) => {}
        }
        if self.device_key.is_none() {
            return Err("GATEWAY_DEVICE_KEY is required: 32 random bytes in base64 (openssl rand -base64 32), the key that signs the devices' tokens".into());
        }
        if let Some(url) = &self.redis_url {
            if !self.redis_insecure && !redis_url_is_private(url)? {
                return Err("TVPASS_REDIS_URL: redis:// to a host that is not loopback sends the fleet's state in clear; use rediss://, or set TVPASS_REDIS_INSECURE=1 on a network you trust".into());
            }
        }
        Ok(())
    }

    /// The settings that make this gateway insecure or not real, for the health answer.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if self.emulator {
            w.push("emulator");
        }
        if self.redis_insecure {
            w.push("redis_insecure");
        }
        if self.insecure_plaintext {
            w.push("insecure_plaintext");
        }
        w
    }

    /// The service of these settings against `base_url`.
    pub fn service(&self, base_url: String) -> Result<PassService, PassError> {
        let mut b = PassService::builder()
            .environment(Environment::Custom(base_url))
            .service_provider(
                self.service_provider
                    .clone()
                    .unwrap_or_else(|| tvpass_emulator::DEFAULT_SERVICE_PROVIDER.into()),
            )
            .software_statement(
                self.software_statement
                    .clone()
                    .unwrap_or_else(|| tvpass_emulator::DEFAULT_SOFTWARE_STATEMENT.into()),
            );
        if let Some(url) = &self.redis_url {
            b = b.redis(url.clone());
            if let Some(key) = &self.fleet_key {
                b = b.fleet_key(key.clone());
            }
            for key in &self.fleet_previous_keys {
                b = b.fleet_previous_key(key.clone());
            }
            if self.insecure_plaintext {
                b = b.insecure_plaintext();
            }
            if let Some(n) = self.fleet_instances {
                b = b.fleet_instances(n);
            }
        }
        b.build()
    }
}

/// Whether a Redis URL keeps the fleet's traffic private: TLS (`rediss://`), a Unix socket, or
/// plain `redis://` to a loopback host.
fn redis_url_is_private(url: &str) -> Result<bool, String> {
    let parsed = url::Url::parse(url).map_err(|_| "TVPASS_REDIS_URL: not a URL".to_string())?;
    Ok(match parsed.scheme() {
        "rediss" | "unix" | "redis+unix" => true,
        "redis" => match parsed.host() {
            // Not a special scheme: the URL parser leaves an IPv4 host as a name.
            Some(url::Host::Domain(d)) => {
                d.eq_ignore_ascii_case("localhost")
                    || d.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        other => return Err(format!("TVPASS_REDIS_URL: {other}:// is not a Redis URL")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=";

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_vars(|n| map.get(n).cloned())
    }

    fn real() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TVPASS_BASE_URL", "https://api.auth.adobe.com"),
            ("TVPASS_SERVICE_PROVIDER", "REF30"),
            ("TVPASS_SOFTWARE_STATEMENT", "statement"),
            ("GATEWAY_DEVICE_KEY", KEY),
        ]
    }

    fn refused(pairs: &[(&str, &str)], naming: &str) {
        let e = with(pairs).unwrap_err();
        assert!(e.contains(naming), "{e}");
        assert!(!e.contains(KEY) && !e.contains('\n'), "{e}");
    }

    #[test]
    fn a_gateway_without_its_required_settings_is_refused() {
        refused(&[("GATEWAY_DEVICE_KEY", KEY)], "TVPASS_BASE_URL");
        refused(&real()[..1], "TVPASS_SERVICE_PROVIDER");
        refused(&real()[..3], "GATEWAY_DEVICE_KEY");
        let mut both = real();
        both.push(("GATEWAY_EMULATOR", "1"));
        refused(&both, "choose one");
        let s = with(&real()).unwrap();
        assert!(s.warnings().is_empty());
        let dev = with(&[("GATEWAY_EMULATOR", "1"), ("GATEWAY_DEVICE_KEY", KEY)]).unwrap();
        assert_eq!(dev.warnings(), vec!["emulator"]);
    }

    #[test]
    fn the_old_proxy_switch_and_a_plain_remote_redis_are_refused() {
        let mut old = real();
        old.push(("GATEWAY_BEHIND_PROXY", "1"));
        refused(&old, "GATEWAY_TRUSTED_PROXIES");
        let mut remote = real();
        remote.push(("TVPASS_REDIS_URL", "redis://redis.invalid:6379/0"));
        refused(&remote, "TVPASS_REDIS_INSECURE");
        remote.push(("TVPASS_REDIS_INSECURE", "1"));
        assert_eq!(with(&remote).unwrap().warnings(), vec!["redis_insecure"]);
        for ok in [
            "redis://127.0.0.1:6379",
            "redis://localhost/0",
            "rediss://redis.invalid:6380",
            "redis://[::1]:6379",
        ] {
            let mut s = real();
            s.push(("TVPASS_REDIS_URL", ok));
            assert!(with(&s).is_ok(), "{ok}: {:?}", with(&s).err());
        }
        let mut bad = real();
        bad.push(("TVPASS_REDIS_URL", "http://127.0.0.1"));
        refused(&bad, "TVPASS_REDIS_URL");
        let mut proxies = real();
        proxies.push(("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8, lb"));
        refused(&proxies, "GATEWAY_TRUSTED_PROXIES");
    }

    #[test]
    fn every_limit_is_taken_at_and_inside_its_bounds_and_refused_outside() {
        let cases: [(&str, u64, u64); 7] = [
            ("GATEWAY_REQUEST_TIMEOUT_MS", 100, 600_000),
            ("GATEWAY_HEADER_TIMEOUT_MS", 100, 60_000),
            ("GATEWAY_IDLE_TIMEOUT_MS", 100, 3_600_000),
            ("GATEWAY_MAX_CONNECTIONS", 1, 1_000_000),
            ("GATEWAY_MAX_IN_FLIGHT", 1, 1_000_000),
            ("GATEWAY_MAX_RESOURCES", 1, 1_000),
            ("GATEWAY_ENROLMENTS_PER_MINUTE", 1, 100_000),
        ];
        for (name, lo, hi) in cases {
            for (v, ok) in [
                (lo - 1, false),
                (lo, true),
                ((lo + hi) / 2, true),
                (hi, true),
                (hi + 1, false),
            ] {
                let value = v.to_string();
                let mut s = real();
                s.push((name, &value));
                assert_eq!(with(&s).is_ok(), ok, "{name}={v}");
            }
        }
        let mut s = real();
        s.push(("GATEWAY_MAX_CONNECTIONS", "many"));
        refused(&s, "GATEWAY_MAX_CONNECTIONS");
        assert_eq!(with(&real()).unwrap().limits, Limits::default());
    }
}
