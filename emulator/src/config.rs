//! The emulator's configuration: service providers, MVPDs, entitlement rules, TempPass and limits.
//!
//! A configuration is read from TOML (`.toml`) or JSON (any other extension); every field has a
//! default, and [`EmulatorConfig::default`] serves the quickstart.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole emulator configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// The service providers (requestors) the emulator knows.
    pub service_providers: Vec<ServiceProviderConfig>,
    /// Software statements accepted by `POST /o/client/register`.
    pub software_statements: Vec<SoftwareStatementConfig>,
    /// Lifetime of DCR access tokens, in seconds (`expires_in`).
    pub access_token_ttl_secs: u64,
    /// Lifetime of an authentication session (code), in seconds.
    pub session_ttl_secs: u64,
    /// Lifetime of a media token, in seconds.
    pub media_token_ttl_secs: u64,
    /// Lifetime of a permit decision (`notAfter - notBefore` of the decision), in seconds.
    pub decision_ttl_secs: u64,
    /// Throttling of `/o/client/*` and `/api/v2/*`.
    pub throttling: ThrottlingConfig,
    /// Reject `AP-TempPass-Identity` values that are not SHA-256 hex digests.
    pub require_hashed_identity: bool,
    /// Largest request body accepted, in bytes (larger bodies answer 413).
    pub max_body_bytes: usize,
    /// How many requests the request log keeps (oldest dropped first).
    pub request_log_capacity: usize,
    /// Answer CORS for pages served from loopback origins (`http://127.0.0.1:*`,
    /// `http://localhost:*`), so that a browser on the developer's machine may call the
    /// emulator. Off by default; packaged TV apps declare the service's origin in their
    /// manifest instead.
    pub cors_loopback: bool,
}

/// One service provider (requestor) and its MVPD integrations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceProviderConfig {
    /// Identifier used in paths, e.g. `REF30`.
    pub id: String,
    /// Brand name.
    pub name: String,
    /// Domains listed for the service provider.
    pub domains: Vec<String>,
    /// Most resources one preauthorize request may carry (`too_many_resources` beyond).
    pub max_preauthorize_resources: usize,
    /// Most resources one authorize request may carry (`too_many_resources` beyond).
    pub max_authorize_resources: usize,
    /// The MVPDs integrated with this service provider.
    pub mvpds: Vec<MvpdConfig>,
    /// Partners whose single sign-on is enabled for this service provider (e.g. `Apple`);
    /// another known partner answers `configuration_fallback`.
    pub sso_partners: Vec<String>,
}

/// An MVPD (identity provider), regular or TempPass.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MvpdConfig {
    /// Identifier, e.g. `Cablevision`.
    pub id: String,
    /// Brand name shown in pickers.
    pub display_name: String,
    /// Logo URL.
    pub logo_url: String,
    /// Whether the integration is enabled (`invalid_integration` when not).
    pub enabled: bool,
    /// Resources a user of this MVPD may play; `"*"` allows every resource.
    pub resources: Vec<String>,
    /// Resources denied by parental controls.
    pub parental_controls: Vec<String>,
    /// Any other deny: resource -> enhanced error code (e.g. `authorization_denied_by_hba_policies`).
    pub deny: BTreeMap<String, String>,
    /// Degradation rule applied to the integration.
    pub degradation: Degradation,
    /// Lifetime of an authenticated profile, in seconds.
    pub profile_ttl_secs: u64,
    /// Logout endpoint; when absent, logout answers `complete`.
    pub logout_url: Option<String>,
    /// Present for TempPass pseudo-MVPDs.
    pub temppass: Option<TempPassConfig>,
    /// The id the streaming platform (e.g. Apple's account provider identifier) knows the MVPD
    /// by: the `AP-Partner-Framework-Status` provider id maps to the MVPD through it.
    pub platform_mapping_id: Option<String>,
    /// Platform onboarding: `SUPPORTED` (partner single sign-on works) or `PICKER` (only shown
    /// in the platform's picker).
    pub boarding_status: Option<String>,
    /// The configuration is enabled for the platform's single sign-on flows.
    pub enable_platform_services: bool,
    /// The MVPD may be shown in the platform's picker.
    pub display_in_platform_picker: bool,
    /// The device must enforce the user permissions the platform reports.
    pub enforce_platform_permissions: bool,
    /// Single sign-on with a platform identity (`Adobe-Subject-Token`,
    /// `X-Roku-Reserved-Roku-Connect-Token`): profiles are shared by every app of the identity.
    pub platform_sso: bool,
    /// Single sign-on with a service token (`AD-Service-Token`): profiles are shared by every
    /// app presenting the same user.
    pub service_token_sso: bool,
}

/// The degradation rule of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Degradation {
    /// No degradation.
    #[default]
    None,
    /// AuthNAll: every device is treated as authenticated (degraded profile).
    AuthnAll,
    /// AuthZAll: every authorization is permitted for authenticated users.
    AuthzAll,
    /// AuthZNone: every authorization is denied (`authorization_denied_by_degradation_rule`).
    AuthzNone,
}

/// TempPass settings of a pseudo-MVPD.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TempPassConfig {
    /// Clock-based time to live, from the first authorization, in seconds.
    pub ttl_secs: u64,
    /// Promotional TempPass: the most distinct resources one trial may play.
    pub max_resources: Option<u32>,
    /// Promotional TempPass: the key of the `AP-TempPass-Identity` JSON object (e.g. `email`).
    pub identity_key: Option<String>,
}

/// A software statement accepted by the registration endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SoftwareStatementConfig {
    /// The statement, as the app sends it.
    pub statement: String,
    /// The service provider the registered client may call.
    pub service_provider: String,
    /// Unapproved statements answer `unapproved_software_statement`.
    pub approved: bool,
    /// Redirect URIs granted to the client.
    pub redirect_uris: Vec<String>,
}

/// Throttling settings.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlingConfig {
    /// Whether throttling is applied.
    pub enabled: bool,
    /// Sustained requests per second per device.
    pub requests_per_second: f64,
    /// One-time burst on top of the sustained rate.
    pub burst: u32,
}

impl Default for ThrottlingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            requests_per_second: 1.0,
            burst: 10,
        }
    }
}

impl Default for TempPassConfig {
    fn default() -> Self {
        Self {
            ttl_secs: 600,
            max_resources: None,
            identity_key: None,
        }
    }
}

impl Default for SoftwareStatementConfig {
    fn default() -> Self {
        Self {
            statement: String::new(),
            service_provider: String::new(),
            approved: true,
            redirect_uris: vec!["tvpass://callback".into()],
        }
    }
}

impl Default for MvpdConfig {
    fn default() -> Self {
        Self {
            id: String::new(),
            display_name: String::new(),
            logo_url: String::new(),
            enabled: true,
            resources: vec!["*".into()],
            parental_controls: Vec::new(),
            deny: BTreeMap::new(),
            degradation: Degradation::None,
            profile_ttl_secs: 30 * 24 * 3600,
            logout_url: None,
            temppass: None,
            platform_mapping_id: None,
            boarding_status: None,
            enable_platform_services: false,
            display_in_platform_picker: false,
            enforce_platform_permissions: false,
            platform_sso: false,
            service_token_sso: false,
        }
    }
}

impl Default for ServiceProviderConfig {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            domains: vec!["adobe.com".into()],
            max_preauthorize_resources: 5,
            max_authorize_resources: 1,
            mvpds: Vec::new(),
            sso_partners: Vec::new(),
        }
    }
}

/// The software statement of the built-in configuration.
pub const DEFAULT_SOFTWARE_STATEMENT: &str = "tvpass-emulator-software-statement";
/// The service provider of the built-in configuration.
pub const DEFAULT_SERVICE_PROVIDER: &str = "REF30";

impl Default for EmulatorConfig {
    /// One service provider (`REF30`), two regular MVPDs (`Cablevision`, `Spectrum`), a basic
    /// (`TempPass_10min`) and a promotional (`TempPass_Promo`) TempPass, one software statement.
    fn default() -> Self {
        let mvpd = |id: &str, name: &str| MvpdConfig {
            id: id.into(),
            display_name: name.into(),
            logo_url: format!("https://logos.example/{}.png", id.to_lowercase()),
            ..MvpdConfig::default()
        };
        let mut cablevision = mvpd("Cablevision", "Optimum");
        cablevision.resources = vec![
            "REF30".into(),
            "news".into(),
            "sports".into(),
            "movies".into(),
            "kids".into(),
            "late-night".into(),
        ];
        cablevision.parental_controls = vec!["late-night".into()];
        cablevision.logout_url = Some("https://login.cablevision.example/logout".into());
        cablevision.platform_mapping_id = Some("Cablevision".into());
        cablevision.boarding_status = Some("SUPPORTED".into());
        cablevision.enable_platform_services = true;
        cablevision.display_in_platform_picker = true;
        cablevision.platform_sso = true;
        cablevision.service_token_sso = true;
        let mut spectrum = mvpd("Spectrum", "Spectrum");
        spectrum.resources = vec!["*".into()];
        spectrum.deny.insert(
            "premium".into(),
            "authorization_denied_by_hba_policies".into(),
        );
        spectrum.platform_mapping_id = Some("spectrum".into());
        spectrum.boarding_status = Some("PICKER".into());
        spectrum.display_in_platform_picker = true;
        spectrum.platform_sso = true;
        spectrum.service_token_sso = true;
        let mut basic = mvpd("TempPass_10min", "TempPass 10 minutes");
        basic.temppass = Some(TempPassConfig {
            ttl_secs: 600,
            ..TempPassConfig::default()
        });
        let mut promo = mvpd("TempPass_Promo", "Promotional TempPass");
        promo.temppass = Some(TempPassConfig {
            ttl_secs: 24 * 3600,
            max_resources: Some(3),
            identity_key: Some("email".into()),
        });
        Self {
            service_providers: vec![ServiceProviderConfig {
                id: DEFAULT_SERVICE_PROVIDER.into(),
                name: "Reference Service Provider".into(),
                mvpds: vec![cablevision, spectrum, basic, promo],
                sso_partners: vec!["Apple".into()],
                ..ServiceProviderConfig::default()
            }],
            software_statements: vec![SoftwareStatementConfig {
                statement: DEFAULT_SOFTWARE_STATEMENT.into(),
                service_provider: DEFAULT_SERVICE_PROVIDER.into(),
                ..SoftwareStatementConfig::default()
            }],
            access_token_ttl_secs: 21600,
            session_ttl_secs: 1800,
            media_token_ttl_secs: 600,
            decision_ttl_secs: 3600,
            throttling: ThrottlingConfig::default(),
            require_hashed_identity: true,
            max_body_bytes: 64 * 1024,
            cors_loopback: false,
            request_log_capacity: 100_000,
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl EmulatorConfig {
    /// Parses a configuration from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a configuration from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a configuration file: TOML when the name ends in `.toml`, JSON otherwise.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        if path.extension().is_some_and(|e| e == "toml") {
            Self::from_toml(&text)
        } else {
            Self::from_json(&text)
        }
    }

    /// Checks the configuration for contradictions.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.service_providers.is_empty() {
            return Err(ConfigError(
                "at least one service provider is needed".into(),
            ));
        }
        for sp in &self.service_providers {
            if sp.id.is_empty() {
                return Err(ConfigError("a service provider has an empty id".into()));
            }
            if sp.max_preauthorize_resources == 0 || sp.max_authorize_resources == 0 {
                return Err(ConfigError(format!(
                    "{}: resource limits must be at least 1",
                    sp.id
                )));
            }
            for m in &sp.mvpds {
                if m.id.is_empty() {
                    return Err(ConfigError(format!("{}: an MVPD has an empty id", sp.id)));
                }
                if let Some(tp) = &m.temppass {
                    if tp.max_resources.is_some() != tp.identity_key.is_some() {
                        return Err(ConfigError(format!(
                            "{}: a promotional TempPass needs both max_resources and identity_key",
                            m.id
                        )));
                    }
                }
            }
        }
        for s in &self.software_statements {
            if !self
                .service_providers
                .iter()
                .any(|sp| sp.id == s.service_provider)
            {
                return Err(ConfigError(format!(
                    "software statement for unknown service provider {}",
                    s.service_provider
                )));
            }
        }
        if self.throttling.requests_per_second <= 0.0 {
            return Err(ConfigError(
                "throttling.requests_per_second must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The service provider with this id.
    pub fn service_provider(&self, id: &str) -> Option<&ServiceProviderConfig> {
        self.service_providers.iter().find(|sp| sp.id == id)
    }
}

impl ServiceProviderConfig {
    /// The MVPD with this id.
    pub fn mvpd(&self, id: &str) -> Option<&MvpdConfig> {
        self.mvpds.iter().find(|m| m.id == id)
    }

    /// The enabled MVPD the platform knows by this mapping id.
    pub fn mvpd_for_platform_id(&self, mapping_id: &str) -> Option<&MvpdConfig> {
        self.mvpds
            .iter()
            .find(|m| m.enabled && m.platform_mapping_id.as_deref() == Some(mapping_id))
    }

    /// Whether partner single sign-on is enabled for this partner.
    pub fn partner_enabled(&self, partner: &str) -> bool {
        self.sso_partners
            .iter()
            .any(|p| p.eq_ignore_ascii_case(partner))
    }
}

impl MvpdConfig {
    /// Whether a user of this MVPD is entitled to the resource.
    pub fn allows(&self, resource: &str) -> bool {
        self.resources.iter().any(|r| r == "*" || r == resource)
    }
}
