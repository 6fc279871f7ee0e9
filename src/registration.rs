//! Dynamic Client Registration: client credentials (kept forever) and the access token (kept
//! until it expires), with single flight: concurrent callers share one register and one token
//! request.

use crate::error::PassError;
use crate::secret::Secret;
use crate::storage::Store;
use crate::time::Instant;
use crate::transport::{Request, Transport};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};
#[cfg(feature = "redis")]
use std::time::Duration;

#[derive(Clone, Serialize, Deserialize)]
struct Credentials {
    client_id: String,
    client_secret: String,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredToken {
    access_token: String,
    expires_at_ms: i64,
}

impl Credentials {
    /// Whether credentials read back (storage, a fleet's Redis) or registered can be sent: an
    /// id and a secret of printable text, each at most 16 KiB. Anything else is treated as
    /// missing, so the client registers again.
    fn usable(&self) -> bool {
        usable_text(&self.client_id) && usable_text(&self.client_secret)
    }
}

impl StoredToken {
    /// Whether a token read back or issued can be sent as `Authorization: Bearer`: printable
    /// text of at most 16 KiB. Anything else is treated as missing, so a new one is fetched.
    fn usable(&self) -> bool {
        usable_text(&self.access_token)
    }
}

/// The longest client id, client secret or access token kept or sent.
const MAX_SECRET_BYTES: usize = 16 * 1024;

/// The longest lifetime taken from a token answer's `expires_in`: a week.
const MAX_TOKEN_TTL_S: u64 = 7 * 24 * 3600;

fn usable_text(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SECRET_BYTES && s.bytes().all(|b| b.is_ascii_graphic())
}

/// What the storage or a fleet gives back for the token (`kind` 0) or the credentials (any
/// other), as the client reads it, for fuzzing: `None` when the text is not a value of that
/// kind, else whether it is used (not treated as missing) and whether it can be sent.
#[doc(hidden)]
pub fn read_back(kind: u8, text: &str) -> Option<(bool, bool)> {
    if kind == 0 {
        let t = serde_json::from_str::<StoredToken>(text).ok()?;
        let sendable = crate::transport::bearer(&t.access_token).is_some();
        Some((t.usable(), sendable))
    } else {
        let c = serde_json::from_str::<Credentials>(text).ok()?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &c.client_id)
            .append_pair("client_secret", &c.client_secret)
            .finish();
        Some((c.usable(), form.is_ascii()))
    }
}

/// The token request of `creds` at `base`.
fn token_request(
    base: &str,
    headers: crate::http::HeaderMap,
    creds: &Credentials,
) -> Result<Request, PassError> {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &creds.client_id)
        .append_pair("client_secret", &creds.client_secret)
        .append_pair("grant_type", "client_credentials")
        .finish();
    Ok(Request {
        method: crate::http::Method::POST,
        url: crate::transport::parse_url(&format!("{base}/o/client/token"))?,
        path: "/o/client/token".into(),
        headers,
        body: Some(("application/x-www-form-urlencoded", form.into())),
    })
}

/// A token must be valid at least this much longer to be used.
const SAFETY_MARGIN_MS: i64 = 5 * 60 * 1000;

pub(crate) use crate::time::now_ms;

pub(crate) struct Registration {
    base: String,
    software_statement: Secret,
    redirect_uri: Option<String>,
    common_headers: crate::http::HeaderMap,
    store: Arc<Store>,
    token: RwLock<Option<StoredToken>>,
    flight: tokio::sync::Mutex<()>,
    /// The fleet that shares the credentials and the token, if any.
    #[cfg(feature = "redis")]
    fleet: std::sync::OnceLock<Arc<crate::fleet::Fleet>>,
}

impl Registration {
    pub fn new(
        base: String,
        software_statement: Secret,
        redirect_uri: Option<String>,
        common_headers: Vec<(&'static str, String)>,
        store: Arc<Store>,
    ) -> Self {
        let token = store
            .load::<StoredToken>("token")
            .filter(StoredToken::usable);
        Self {
            base,
            software_statement,
            redirect_uri,
            common_headers: crate::transport::header_map(&common_headers),
            store,
            token: RwLock::new(token),
            flight: tokio::sync::Mutex::new(()),
            #[cfg(feature = "redis")]
            fleet: std::sync::OnceLock::new(),
        }
    }

    /// Shares the credentials and the token with a fleet.
    #[cfg(feature = "redis")]
    pub fn set_fleet(&self, fleet: Arc<crate::fleet::Fleet>) {
        let _ = self.fleet.set(fleet);
    }

    /// The token in memory while it is valid (the path of nearly every call: no future).
    pub fn valid_cached(&self) -> Option<Secret> {
        let guard = self.token.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|t| t.expires_at_ms - SAFETY_MARGIN_MS > now_ms())
            .map(|t| Secret::new(t.access_token.clone()))
    }

    /// A valid access token: cached, or obtained with at most one register and one token
    /// request for all concurrent callers.
    pub async fn token(
        &self,
        transport: &Transport,
        deadline: Instant,
    ) -> Result<Secret, PassError> {
        if let Some(t) = self.valid_cached() {
            return Ok(t);
        }
        let _flight = self.flight.lock().await;
        if let Some(t) = self.valid_cached() {
            return Ok(t);
        }
        #[cfg(feature = "redis")]
        if let Some(fleet) = self.fleet.get() {
            if let Some(t) = self.fleet_token(fleet, transport, deadline).await? {
                return Ok(t);
            }
            // Redis cannot answer: this instance registers and fetches on its own.
        }
        let creds = self
            .store
            .load::<Credentials>("credentials")
            .filter(Credentials::usable);
        let (token, _) = self.issue(transport, creds, deadline).await?;
        Ok(self.keep(token))
    }

    /// A token for `creds`, registering first when there are none; credentials the service
    /// rejects are replaced by one new registration, then the call gives up. Returns the token
    /// and the credentials registered on the way, if any (the local storage already has them).
    async fn issue(
        &self,
        transport: &Transport,
        creds: Option<Credentials>,
        deadline: Instant,
    ) -> Result<(StoredToken, Option<Credentials>), PassError> {
        let (creds, registered) = match creds {
            Some(c) => (c, None),
            None => {
                let c = self.register(transport, deadline).await?;
                (c.clone(), Some(c))
            }
        };
        match self.request_token(transport, &creds, deadline).await {
            Ok(t) => Ok((t, registered)),
            Err(TokenError::Other(e)) => Err(e),
            Err(TokenError::InvalidClient) => {
                // The credentials were revoked or lost: register once more, then give up.
                tracing::info!("client credentials rejected; registering again");
                self.store.delete("credentials");
                let fresh = self.register(transport, deadline).await?;
                match self.request_token(transport, &fresh, deadline).await {
                    Ok(t) => Ok((t, Some(fresh))),
                    Err(TokenError::InvalidClient) => {
                        Err(PassError::RegistrationRejected("invalid_client".into()))
                    }
                    Err(TokenError::Other(e)) => Err(e),
                }
            }
        }
    }

    fn keep(&self, token: StoredToken) -> Secret {
        let secret = Secret::new(token.access_token.clone());
        self.store.save("token", &token);
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = Some(token);
        secret
    }

    /// The fleet's token, or one fetched by this instance for the whole fleet while it holds
    /// the refresh lock (the others wait for it). `None` when Redis cannot answer.
    #[cfg(feature = "redis")]
    async fn fleet_token(
        &self,
        fleet: &crate::fleet::Fleet,
        transport: &Transport,
        deadline: Instant,
    ) -> Result<Option<Secret>, PassError> {
        let usable = |json: &str| {
            serde_json::from_str::<StoredToken>(json)
                .ok()
                .filter(StoredToken::usable)
                .filter(|t| t.expires_at_ms - SAFETY_MARGIN_MS > now_ms())
        };
        loop {
            match fleet.load_token().await {
                None => return Ok(None),
                Some(Some(json)) => {
                    if let Some(t) = usable(&json) {
                        return Ok(Some(self.keep(t)));
                    }
                }
                Some(None) => {}
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            match fleet
                .lock_refresh(remaining.min(Duration::from_secs(30)))
                .await
            {
                None => return Ok(None),
                Some(Some(lock)) => {
                    // Another instance may have refreshed between the read and the lock.
                    if let Some(Some(json)) = fleet.load_token().await {
                        if let Some(t) = usable(&json) {
                            fleet.unlock_refresh(lock).await;
                            return Ok(Some(self.keep(t)));
                        }
                    }
                    let result = self.refresh_for_fleet(fleet, transport, deadline).await;
                    fleet.unlock_refresh(lock).await;
                    return result.map(Some);
                }
                Some(None) => {
                    // Another instance is refreshing: its token shows up shortly.
                    if remaining < Duration::from_millis(50) {
                        return Err(PassError::Timeout(remaining));
                    }
                    crate::time::sleep(Duration::from_millis(25)).await;
                }
            }
        }
    }

    #[cfg(feature = "redis")]
    async fn refresh_for_fleet(
        &self,
        fleet: &crate::fleet::Fleet,
        transport: &Transport,
        deadline: Instant,
    ) -> Result<Secret, PassError> {
        let shared = fleet
            .load_credentials()
            .await
            .flatten()
            .and_then(|json| serde_json::from_str::<Credentials>(&json).ok())
            .filter(Credentials::usable);
        if let Some(c) = &shared {
            self.store.save("credentials", c);
        }
        let (token, registered) = self.issue(transport, shared, deadline).await?;
        if let Some(json) = registered.and_then(|c| serde_json::to_string(&c).ok()) {
            fleet.save_credentials(json).await;
        }
        if let Ok(json) = serde_json::to_string(&token) {
            fleet.save_token(json, token.expires_at_ms - now_ms()).await;
        }
        Ok(self.keep(token))
    }

    /// After a 401: forgets the token (and with `client` the credentials) in the fleet too, if
    /// it is still the one used.
    #[cfg(feature = "redis")]
    pub async fn forget_in_fleet(&self, used: &Secret, client: bool) {
        let Some(fleet) = self.fleet.get() else {
            return;
        };
        if let Some(Some(json)) = fleet.load_token().await {
            if serde_json::from_str::<StoredToken>(&json)
                .is_ok_and(|t| t.access_token == used.expose())
            {
                fleet.forget_token(json, client).await;
            }
        }
    }

    /// Forgets `used` if it is still the current token (after a 401).
    pub fn forget_token(&self, used: &Secret) {
        let mut guard = self.token.write().unwrap_or_else(|e| e.into_inner());
        if guard
            .as_ref()
            .is_some_and(|t| t.access_token == used.expose())
        {
            *guard = None;
            self.store.delete("token");
        }
    }

    /// Forgets the token and the client credentials (after `application-registration`).
    pub fn forget_client(&self, used: &Secret) {
        let mut guard = self.token.write().unwrap_or_else(|e| e.into_inner());
        if guard
            .as_ref()
            .is_none_or(|t| t.access_token == used.expose())
        {
            *guard = None;
            self.store.delete("token");
            self.store.delete("credentials");
        }
    }

    async fn register(
        &self,
        transport: &Transport,
        deadline: Instant,
    ) -> Result<Credentials, PassError> {
        let mut body =
            serde_json::json!({ "software_statement": self.software_statement.expose() });
        if let Some(r) = &self.redirect_uri {
            body["redirect_uri"] = serde_json::Value::String(r.clone());
        }
        let req = Request {
            method: crate::http::Method::POST,
            url: crate::transport::parse_url(&format!("{}/o/client/register", self.base))?,
            path: "/o/client/register".into(),
            headers: self.common_headers.clone(),
            body: Some(("application/json", body.to_string().into())),
        };
        let answer = transport.send(&req, deadline).await?;
        match answer.status {
            200 | 201 => {
                #[derive(Deserialize)]
                struct Registered {
                    client_id: String,
                    client_secret: String,
                }
                let r: Registered = answer.json()?;
                let creds = Credentials {
                    client_id: r.client_id,
                    client_secret: r.client_secret,
                };
                if !creds.usable() {
                    return Err(PassError::Protocol(
                        "the registration answer holds no usable credentials".into(),
                    ));
                }
                self.store.save("credentials", &creds);
                Ok(creds)
            }
            400 => Err(PassError::RegistrationRejected(oauth_error(&answer.body))),
            _ => Err(answer.into_error()),
        }
    }

    async fn request_token(
        &self,
        transport: &Transport,
        creds: &Credentials,
        deadline: Instant,
    ) -> Result<StoredToken, TokenError> {
        let req = token_request(&self.base, self.common_headers.clone(), creds)
            .map_err(TokenError::Other)?;
        let answer = transport
            .send(&req, deadline)
            .await
            .map_err(TokenError::Other)?;
        match answer.status {
            200 | 201 => {
                #[derive(Deserialize)]
                struct Issued {
                    access_token: String,
                    expires_in: u64,
                }
                let t: Issued = answer.json().map_err(TokenError::Other)?;
                // Our own clock decides expiry: the device's and the server's may disagree.
                // A lifetime past a week is taken as a week (no overflow, and a token the
                // service stops honouring is found by its 401 anyway).
                let ttl = t.expires_in.min(MAX_TOKEN_TTL_S) as i64 * 1000;
                let token = StoredToken {
                    access_token: t.access_token,
                    expires_at_ms: now_ms().saturating_add(ttl),
                };
                if !token.usable() {
                    return Err(TokenError::Other(PassError::Protocol(
                        "the token answer holds no usable token".into(),
                    )));
                }
                Ok(token)
            }
            400 | 401 => match oauth_error(&answer.body).as_str() {
                "invalid_client" | "unauthorized_client" => Err(TokenError::InvalidClient),
                other => Err(TokenError::Other(PassError::RegistrationRejected(
                    other.to_string(),
                ))),
            },
            _ => Err(TokenError::Other(answer.into_error())),
        }
    }
}

enum TokenError {
    InvalidClient,
    Other(PassError),
}

fn oauth_error(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| "unknown_error".into())
}

#[cfg(test)]
mod tests {
    use super::{token_request, Credentials};
    use crate::transport::{bearer, header_map, http_request};
    use std::time::Duration;

    #[test]
    fn a_token_request_debugs_without_its_secrets() {
        let creds = Credentials {
            client_id: "cid-5150".into(),
            client_secret: "s3cr3t-Zq9".into(),
        };
        let mut headers = header_map(&[
            ("ap-device-identifier", "fingerprint ZGV2LTc3".into()),
            ("x-forwarded-for", "203.0.113.9".into()),
            ("user-agent", "tvpass/1".into()),
        ]);
        headers.insert(http::header::AUTHORIZATION, bearer("tok-abc123").unwrap());
        let mut req =
            token_request("https://alice:pw-9x@sp.auth.adobe.com", headers, &creds).unwrap();
        req.url.set_query(Some("device_id=dev-77&key=k-42"));
        let body_len = req.body.as_ref().unwrap().1.len();
        let sent = http_request(req.clone(), Duration::from_secs(1), 1024);
        // The request does hold the secrets that must not print.
        let body = String::from_utf8(sent.body.clone().unwrap().to_vec()).unwrap();
        assert!(body.contains("client_secret=s3cr3t-Zq9"), "{body}");
        for text in [
            format!("{req:?}"),
            format!("{req:#?}"),
            format!("{sent:?}"),
            format!("{sent:#?}"),
        ] {
            for secret in [
                "s3cr3t-Zq9",
                "client_secret",
                "cid-5150",
                "tok-abc123",
                "Bearer",
                "ZGV2LTc3",
                "203.0.113.9",
                "dev-77",
                "k-42",
                "alice",
                "pw-9x",
            ] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
            assert!(text.contains("POST"), "{text}");
            assert!(
                text.contains("https://sp.auth.adobe.com/o/client/token?device_id=***&key=***"),
                "{text}"
            );
            for name in ["authorization", "ap-device-identifier", "x-forwarded-for"] {
                assert!(
                    text.contains(&format!("\"{name}\": \"***\"")),
                    "{name} in {text}"
                );
            }
            assert!(text.contains("\"tvpass/1\""), "{text}");
            assert!(text.contains(&body_len.to_string()), "{text}");
        }
        assert!(format!("{sent:?}").contains("application/x-www-form-urlencoded"));
    }
}
