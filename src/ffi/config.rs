//! The client's settings as the bindings see them: `DeviceInfo` (`X-Device-Info`) and
//! `ClientConfig`, turned into the core's builder settings by `PassClient::new`; and
//! `SecretText`, the text no generated `toString` or `description` shows.

/// Text that must never be printed: the software statement, the device id, a header value, a
/// media token, a profile attribute's value (user identifiers). It crosses the FFI as a string. Kotlin
/// sees it as `Redacted` (`value` is the text, `toString()` shows `***`), so the records that hold
/// it print without it; in Swift it is a `String`, and those records' `description`,
/// `debugDescription` and mirror leave it out.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretText(pub String);

uniffi::custom_newtype!(SecretText, String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for SecretText {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// What the device says about itself (`X-Device-Info`).
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct DeviceInfo {
    /// e.g. `SetTopBox`, `TV`, `MobilePhone`, `Tablet`.
    #[uniffi(default = None)]
    pub primary_hardware_type: Option<String>,
    /// Model.
    #[uniffi(default = None)]
    pub model: Option<String>,
    /// Device version.
    #[uniffi(default = None)]
    pub version: Option<String>,
    /// Manufacturer.
    #[uniffi(default = None)]
    pub manufacturer: Option<String>,
    /// Vendor.
    #[uniffi(default = None)]
    pub vendor: Option<String>,
    /// e.g. `tvOS`, `Android`.
    #[uniffi(default = None)]
    pub os_name: Option<String>,
    /// OS family.
    #[uniffi(default = None)]
    pub os_family: Option<String>,
    /// OS vendor.
    #[uniffi(default = None)]
    pub os_vendor: Option<String>,
    /// OS version.
    #[uniffi(default = None)]
    pub os_version: Option<String>,
    /// Screen width.
    #[uniffi(default = None)]
    pub display_width: Option<u32>,
    /// Screen height.
    #[uniffi(default = None)]
    pub display_height: Option<u32>,
    /// e.g. `WiFi`.
    #[uniffi(default = None)]
    pub connection_type: Option<String>,
    /// The app's identifier.
    #[uniffi(default = None)]
    pub application_id: Option<String>,
}

/// Settings of a client. Optional values take the SDK's defaults. Single sign-on tokens and the
/// visitor id are not settings: give them with `setSubjectToken`, `setRokuConnectToken`,
/// `setServiceToken` and `setVisitorId`, so that no generated `toString`/`description` of this
/// record can show them.
#[derive(Clone, uniffi::Record)]
pub struct ClientConfig {
    /// `https://api.auth.adobe.com`, `https://api.auth-staging.adobe.com`, or another base URL
    /// (plain http only for loopback).
    pub base_url: String,
    /// Service provider (requestor) id.
    pub service_provider: String,
    /// Software statement (a secret: it never prints).
    pub software_statement: SecretText,
    /// Device information.
    pub device_info: DeviceInfo,
    /// A stable device id from the platform; generated and stored when absent. It never prints.
    #[uniffi(default = None)]
    pub device_id: Option<SecretText>,
    /// Polling interval in seconds (3 to 5; default 3).
    #[uniffi(default = None)]
    pub polling_interval_seconds: Option<u32>,
    /// Most attempts per request (1 to 5; default 3).
    #[uniffi(default = None)]
    pub max_attempts: Option<u32>,
    /// Timeout of one request in milliseconds (default 10000).
    #[uniffi(default = None)]
    pub request_timeout_ms: Option<u64>,
    /// Client-side pacing to the service's limit (default true).
    #[uniffi(default = None)]
    pub pace_requests: Option<bool>,
    /// Domain sent when creating sessions.
    #[uniffi(default = None)]
    pub domain_name: Option<String>,
    /// Redirect URL after login and logout.
    #[uniffi(default = None)]
    pub redirect_url: Option<String>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("service_provider", &self.service_provider)
            .field("device_info", &self.device_info)
            .finish_non_exhaustive()
    }
}
