//! TempPass: basic (authorize against the TempPass MVPD), promotional (with the user's hashed
//! identifier), and the management client for the reset API.

use crate::client::{check_id, check_segment, PassClient};
use crate::config::{check_base_url, Environment, RateLimit, RetryPolicy};
use crate::error::PassError;
use crate::model::{Decision, TempPassInfo};
use crate::registration::Registration;
use crate::secret::Secret;
use crate::storage::{MemoryStorage, Storage, Store};
use crate::transport::{Request, Transport};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::Arc;
use std::time::Duration;

/// The user's identity for promotional TempPass, hashed on the device.
///
/// The raw identifier is trimmed, lower-cased and hashed with SHA-256 when the value is made;
/// only the lowercase hex digest is kept and sent (`AP-TempPass-Identity`).
#[derive(Clone, PartialEq, Eq)]
pub struct TempPassIdentity {
    key: String,
    hash: String,
}

impl std::fmt::Debug for TempPassIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempPassIdentity")
            .field("key", &self.key)
            .field("hash", &"***")
            .finish()
    }
}

impl TempPassIdentity {
    /// An identity under the configured key (e.g. `email`).
    pub fn new(key: &str, raw_identifier: &str) -> Result<Self, PassError> {
        check_id("temp_pass_identity.key", key)?;
        let normalized = raw_identifier.trim().to_lowercase();
        if normalized.is_empty() {
            return Err(PassError::config(
                "temp_pass_identity",
                "the identifier is empty",
            ));
        }
        Ok(Self {
            key: key.to_string(),
            hash: hash_identifier(&normalized),
        })
    }

    /// An identity under the `email` key.
    pub fn email(raw_email: &str) -> Result<Self, PassError> {
        Self::new("email", raw_email)
    }

    /// The SHA-256 hex digest sent to the service (also the `key` of the generic reset).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The `AP-TempPass-Identity` header value: base64 of `{"<key>": "<hash>"}`.
    pub fn header_value(&self) -> String {
        let mut map = serde_json::Map::new();
        map.insert(
            self.key.clone(),
            serde_json::Value::String(self.hash.clone()),
        );
        STANDARD.encode(serde_json::Value::Object(map).to_string())
    }
}

/// SHA-256 of the text, as lowercase hex.
pub fn hash_identifier(text: &str) -> String {
    crate::digest::sha256_hex(text)
}

impl PassClient {
    /// Authorizes a resource with a TempPass MVPD: basic when `identity` is `None`,
    /// promotional with the user's identity.
    pub async fn authorize_temp_pass(
        &self,
        mvpd: &str,
        resource: &str,
        identity: Option<&TempPassIdentity>,
    ) -> Result<Decision, PassError> {
        check_segment("mvpd", mvpd)?;
        crate::client::check_resource(resource)?;
        self.authorize_with(mvpd, resource, identity.map(TempPassIdentity::header_value))
            .await
    }

    /// Preauthorizes resources with a TempPass MVPD (every resource is permitted while the
    /// TempPass lasts).
    pub async fn preauthorize_temp_pass(
        &self,
        mvpd: &str,
        resources: &[&str],
        identity: Option<&TempPassIdentity>,
    ) -> Result<Vec<Decision>, PassError> {
        self.preauthorize_with(
            mvpd,
            resources,
            identity.map(TempPassIdentity::header_value),
        )
        .await
    }

    /// The TempPass metadata (expiry, remaining resources, used assets) of the temporary
    /// profile, if the TempPass has started. Asks the service (never cached: it changes with
    /// every authorization).
    pub async fn temp_pass_info(
        &self,
        mvpd: &str,
        identity: Option<&TempPassIdentity>,
    ) -> Result<Option<TempPassInfo>, PassError> {
        check_segment("mvpd", mvpd)?;
        let inner = &self.inner;
        let mut call = crate::client::Call::get(inner.path(&["profiles", mvpd]));
        call.identity = identity.map(TempPassIdentity::header_value);
        let answer = inner.call(&call).await?;
        Ok(crate::api::profiles::decode(&answer.body)?
            .into_iter()
            .find(|p| p.mvpd == mvpd)
            .and_then(|p| p.temp_pass))
    }
}

/// Which TempPass trials a reset targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetTarget {
    /// One device, by its identifier (as the app sends it in `AP-Device-Identifier`, decoded).
    Device(String),
    /// Every device.
    AllDevices,
    /// One promotional identity, by its hash ([`TempPassIdentity::hash`]).
    Identity(String),
    /// Every promotional identity.
    AllIdentities,
}

/// Client of the TempPass reset management API, with its own registration and token.
pub struct ManagementClient {
    base: String,
    mgmt_base: String,
    transport: Transport,
    registration: Registration,
}

impl std::fmt::Debug for ManagementClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagementClient")
            .field("base", &self.mgmt_base)
            .finish_non_exhaustive()
    }
}

impl ManagementClient {
    /// A management client for the environment, registering with its own software statement.
    /// Sends with the built-in transport (feature `reqwest-transport`).
    pub fn new(
        environment: Environment,
        software_statement: &str,
        storage: Option<Arc<dyn Storage>>,
    ) -> Result<Self, PassError> {
        Self::with_transport(environment, software_statement, storage, None)
    }

    /// [`new`](Self::new) with the app's own HTTP transport (`None`: the built-in one).
    pub fn with_transport(
        environment: Environment,
        software_statement: &str,
        storage: Option<Arc<dyn Storage>>,
        transport: Option<Arc<dyn crate::http::HttpTransport>>,
    ) -> Result<Self, PassError> {
        let base = check_base_url("environment", environment.api_base())?;
        let mgmt_base = check_base_url("environment", environment.management_base())?;
        if software_statement.trim().is_empty() {
            return Err(PassError::config("software_statement", "required"));
        }
        let storage = storage.unwrap_or_else(|| Arc::new(MemoryStorage::new()));
        let scope = crate::digest::hex(&crate::digest::sha256(&base)[..4]);
        let store = Arc::new(Store::new(storage, format!("tvpass.management.{scope}")));
        let http = match transport {
            Some(t) => t,
            None => crate::http::default_transport()?,
        };
        let info = crate::config::DeviceInfo {
            primary_hardware_type: Some("Desktop".into()),
            ..Default::default()
        };
        let headers = vec![
            ("accept", "application/json".to_string()),
            (
                "user-agent",
                concat!("tvpass/", env!("CARGO_PKG_VERSION")).to_string(),
            ),
            ("x-device-info", info.header_value()),
        ];
        Ok(Self {
            registration: Registration::new(
                base.clone(),
                Secret::new(software_statement),
                None,
                headers,
                store,
            ),
            transport: Transport::new(
                http,
                RateLimit::default(),
                RetryPolicy::default(),
                Duration::from_secs(10),
                64 * 1024,
            ),
            base,
            mgmt_base,
        })
    }

    /// Resets TempPass trials of `mvpd` for `service_provider`.
    pub async fn reset(
        &self,
        service_provider: &str,
        mvpd: &str,
        target: ResetTarget,
    ) -> Result<(), PassError> {
        check_segment("service_provider", service_provider)?;
        check_segment("mvpd", mvpd)?;
        let (path, param, value) = match &target {
            ResetTarget::Device(d) => ("/reset-tempass/v3/reset", "device_id", d.as_str()),
            ResetTarget::AllDevices => ("/reset-tempass/v3/reset", "device_id", "all"),
            ResetTarget::Identity(k) => ("/reset-tempass/v3/reset/generic", "key", k.as_str()),
            ResetTarget::AllIdentities => ("/reset-tempass/v3/reset/generic", "key", "all"),
        };
        check_id("target", value)?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("requestor_id", service_provider)
            .append_pair("mvpd_id", mvpd)
            .append_pair(param, value)
            .finish();
        let deadline = self.transport.deadline();
        let mut refreshed = false;
        loop {
            let token = self.registration.token(&self.transport, deadline).await?;
            let req = Request {
                method: crate::http::Method::DELETE,
                url: crate::transport::parse_url(&format!("{}{path}?{query}", self.mgmt_base))?,
                path: path.to_string(),
                headers: crate::transport::bearer(token.expose())
                    .map(|v| std::iter::once((http::header::AUTHORIZATION, v)).collect())
                    .unwrap_or_default(),
                body: None,
            };
            let answer = self.transport.send(&req, deadline).await?;
            match answer.status {
                200..=299 => return Ok(()),
                401 | 403 if !refreshed => {
                    refreshed = true;
                    if answer.status == 403 {
                        self.registration.forget_client(&token);
                    } else {
                        self.registration.forget_token(&token);
                    }
                }
                _ => return Err(answer.into_error()),
            }
        }
    }

    /// The API base URL registration uses.
    pub fn base_url(&self) -> &str {
        &self.base
    }
}
