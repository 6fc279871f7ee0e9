//! Who calls: every device call but enrolment carries a credential, and the gateway acts only
//! for the device that credential proves.
//!
//! The default, [`GatewayTokens`], gives each device a random id and a token that is the id, a
//! key id and an HMAC-SHA256 of the id under `GATEWAY_DEVICE_KEY`: any instance of a fleet
//! verifies it without a lookup, and older keys stay accepted while keys rotate. An operator
//! whose app already proves itself (its own sign-in, a platform attestation) implements
//! [`DeviceAuthenticator`] instead, and may give a device an id that stays the same across
//! reinstalls, which Adobe Pass asks for.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;

/// A future an authenticator returns.
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A new device's credential, the answer of `POST /v1/devices`.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The id the gateway names the device by to Adobe Pass.
    pub device_id: String,
    /// What the device sends as `Authorization: Bearer <token>` from then on.
    pub token: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("device_id", &"***")
            .field("token", &"***")
            .finish()
    }
}

/// Proves which device calls. Implement it to verify an app's own credentials; the gateway's
/// own tokens ([`GatewayTokens`]) are the default.
pub trait DeviceAuthenticator: Send + Sync + 'static {
    /// A credential for a new device (`POST /v1/devices`), from the enrolling request's
    /// headers; `None` answers 401 (an authenticator whose devices enrol elsewhere).
    fn enroll<'a>(&'a self, headers: &'a HeaderMap) -> AuthFuture<'a, Option<Enrolment>>;

    /// The id of the device whose credential these headers carry; `None` answers 401 and
    /// nothing goes to Adobe Pass.
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> AuthFuture<'a, Option<String>>;

    /// Whether the device `caller` may poll the code that the device `owner` started: by
    /// default only the owner may. An authenticator that knows accounts may let a second
    /// screen of the same account look the code up (Adobe's profiles flow within a secondary
    /// application).
    fn may_poll(&self, caller: &str, owner: &str) -> bool {
        caller == owner
    }
}

/// The bearer token of `Authorization`, if it is one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

type HmacSha256 = Hmac<Sha256>;

/// What a token's MAC covers besides the id: the purpose, so that no other HMAC under the same
/// key reads as a token.
const TOKEN_CONTEXT: &[u8] = b"tvpass-gateway device token v1\0";
const PREFIX: &str = "tvpd1";

/// One signing key and its id (the first 8 hex digits of the key's SHA-256).
#[derive(Clone)]
struct Key {
    id: String,
    mac: HmacSha256,
}

impl Key {
    fn decode(base64_key: &str, setting: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(base64_key.trim())
            .map_err(|_| format!("{setting}: not base64"))?;
        if bytes.len() != 32 {
            return Err(format!(
                "{setting}: 32 bytes are required, {} given",
                bytes.len()
            ));
        }
        let id = hex(&Sha256::digest(&bytes)[..4]);
        let mac = HmacSha256::new_from_slice(&bytes).map_err(|_| format!("{setting}: bad key"))?;
        Ok(Self { id, mac })
    }

    fn tag(&self, device_id: &str) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(TOKEN_CONTEXT);
        mac.update(device_id.as_bytes());
        mac
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The gateway's own device tokens: `tvpd1.<device id>.<key id>.<HMAC-SHA256>`, signed with the
/// current key and verified with it or any previous one.
#[derive(Clone)]
pub struct GatewayTokens {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for GatewayTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayTokens")
            .field("key_id", &self.current.id)
            .field("previous", &self.previous.len())
            .finish()
    }
}

impl GatewayTokens {
    /// Tokens signed with `key` (32 bytes, base64: `GATEWAY_DEVICE_KEY`), and still accepted
    /// when signed with one of `previous` (`GATEWAY_DEVICE_PREVIOUS_KEYS`).
    pub fn new(key: &str, previous: &[String]) -> Result<Self, String> {
        Ok(Self {
            current: Key::decode(key, "GATEWAY_DEVICE_KEY")?,
            previous: previous
                .iter()
                .map(|k| Key::decode(k, "GATEWAY_DEVICE_PREVIOUS_KEYS"))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The token of `device_id` (which holds no `.`).
    pub fn issue(&self, device_id: &str) -> String {
        let tag = self.current.tag(device_id).finalize().into_bytes();
        format!(
            "{PREFIX}.{device_id}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The device id a token proves, if it is well formed and its MAC verifies under the key
    /// it names (compared in constant time).
    pub fn verify(&self, token: &str) -> Option<String> {
        if token.len() > 256 {
            return None;
        }
        let mut parts = token.split('.');
        let (prefix, id, key_id, tag) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || prefix != PREFIX || id.is_empty() {
            return None;
        }
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        key.tag(id).verify_slice(&tag).ok()?;
        Some(id.to_string())
    }

    /// A new random device id: 16 bytes of the operating system's generator, in hex (`None`
    /// if the generator fails).
    pub fn new_device_id() -> Option<String> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).ok()?;
        Some(hex(&bytes))
    }
}

impl DeviceAuthenticator for GatewayTokens {
    fn enroll<'a>(&'a self, _headers: &'a HeaderMap) -> AuthFuture<'a, Option<Enrolment>> {
        let enrolment = Self::new_device_id().map(|device_id| Enrolment {
            token: self.issue(&device_id),
            device_id,
        });
        Box::pin(async move { enrolment })
    }

    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> AuthFuture<'a, Option<String>> {
        let id = bearer(headers).and_then(|t| self.verify(t));
        Box::pin(async move { id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=";
    const OTHER: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn a_token_proves_its_device_under_the_current_or_a_previous_key() {
        let old = GatewayTokens::new(OTHER, &[]).unwrap();
        let tokens = GatewayTokens::new(KEY, &[OTHER.to_string()]).unwrap();
        let t = tokens.issue("abc123");
        assert_eq!(tokens.verify(&t).as_deref(), Some("abc123"));
        // Signed before the rotation: still accepted.
        assert_eq!(tokens.verify(&old.issue("dev")).as_deref(), Some("dev"));
        // Signed with the new key: the old instance does not know it.
        assert_eq!(old.verify(&t), None);
    }

    #[test]
    fn forged_changed_and_malformed_tokens_prove_nothing() {
        let tokens = GatewayTokens::new(KEY, &[]).unwrap();
        let stranger = GatewayTokens::new(OTHER, &[]).unwrap();
        let t = tokens.issue("abc123");
        let forged = t.replace("abc123", "abc124");
        for bad in [
            forged.as_str(),
            &stranger.issue("abc123"),
            "",
            "tvpd1",
            "tvpd1...",
            "tvpd1.abc123",
            &format!("{t}.extra"),
            &t[..t.len() - 2],
            &"x".repeat(300),
        ] {
            assert_eq!(tokens.verify(bad), None, "{bad}");
        }
        // Another key with this one's id (the id is a digest of the key): refused by its MAC.
        let relabelled = stranger
            .issue("abc123")
            .replace(&stranger.current.id, &tokens.current.id);
        assert_eq!(tokens.verify(&relabelled), None);
    }

    #[test]
    fn keys_are_checked_and_never_printed() {
        assert!(GatewayTokens::new("c2hvcnQ=", &[])
            .unwrap_err()
            .contains("32 bytes"));
        assert!(GatewayTokens::new("!!", &[])
            .unwrap_err()
            .contains("base64"));
        assert!(GatewayTokens::new(KEY, &["nope".into()])
            .unwrap_err()
            .contains("GATEWAY_DEVICE_PREVIOUS_KEYS"));
        let tokens = GatewayTokens::new(KEY, &[]).unwrap();
        let shown = format!("{tokens:?}");
        assert!(!shown.contains(KEY) && shown.contains("key_id"), "{shown}");
        let e = Enrolment {
            device_id: "d1".into(),
            token: tokens.issue("d1"),
        };
        assert!(!format!("{e:?}").contains("tvpd1"));
    }

    #[test]
    fn ids_are_random_and_bearer_is_read_leniently() {
        let a = GatewayTokens::new_device_id().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(Some(a), GatewayTokens::new_device_id());
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer  tok ".parse().unwrap());
        assert_eq!(bearer(&h), Some("tok"));
        h.insert(header::AUTHORIZATION, "Basic dXNlcg==".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
