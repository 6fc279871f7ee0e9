//! The fleet's values sealed for Redis (feature `redis`): AES-256-GCM under the fleet's key,
//! with a fresh random nonce per value and the Redis key as associated data (a value copied
//! under another key does not open). A sealed value reads
//! `tvp1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`; the key id (the first 4 bytes of the
//! key's SHA-256, in hex) names the key that sealed it, so that a fleet can rotate: every
//! instance gets the new key and keeps the old one to read, values are sealed with the new one
//! as they are written, and the old key goes once its values have expired or been rewritten.
//!
//! The fleet's Redis keys derived from a device's id or IP address are not digests anyone can
//! recompute (a SHA-256 of every IPv4 address takes minutes): they are HMAC-SHA256 under a
//! subkey of each fleet key, `HMAC(fleet key, "tvpass name key v1")`, never the sealing key
//! itself.

use crate::digest::hex;
use crate::error::PassError;
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::Mac;

const PREFIX: &str = "tvp1.";
const NONCE: usize = 12;

/// The label of the subkey that names Redis keys (see the module documentation).
const NAME_KEY_LABEL: &[u8] = b"tvpass name key v1";

/// HMAC-SHA256 of `message` under `key` (of any length).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: the error case is never taken.
    let Ok(mut mac) = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The subkey naming Redis keys derived from a device's id or address, under `key`: a fleet
/// key, or (in plain text) the fleet's Redis prefix, which every instance of the fleet shares
/// but which is no secret.
pub(crate) fn name_key(key: &[u8]) -> [u8; 32] {
    hmac_sha256(key, NAME_KEY_LABEL)
}

/// 128 random bits from the operating system, in hexadecimal (a lock's owner).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 16];
    aes_gcm::aead::rand_core::RngCore::fill_bytes(&mut OsRng, &mut bytes);
    hex(&bytes)
}

/// One 256-bit key, its id and its naming subkey.
#[derive(Clone)]
struct SealKey {
    id: String,
    cipher: Aes256Gcm,
    name: [u8; 32],
}

impl SealKey {
    fn new(bytes: &[u8; 32]) -> Self {
        Self {
            id: hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes)[..4]),
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)),
            name: name_key(bytes),
        }
    }
}

/// Why a value did not open. Never says anything of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// Sealed under a key this instance does not have.
    UnknownKey,
    /// Not a sealed value, or changed since it was sealed.
    Tampered,
}

/// How the fleet writes and reads its values: sealed under its keys, or (only when set
/// explicitly) in plain text.
#[derive(Clone)]
pub(crate) struct Sealer {
    /// The key values are sealed with, then the older keys values may still be sealed with.
    /// Empty: plain text.
    keys: Vec<SealKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key ids only: they name keys without revealing them.
        f.debug_struct("Sealer")
            .field(
                "key_ids",
                &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Decodes a key given as base64 (standard or URL-safe): exactly 32 bytes.
pub(crate) fn decode_key(text: &str, setting: &'static str) -> Result<[u8; 32], PassError> {
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
        .map_err(|_| PassError::config(setting, "not base64"))?;
    bytes
        .try_into()
        .map_err(|_| PassError::config(setting, "must be 32 bytes (256 bits) in base64"))
}

impl Sealer {
    /// Values in plain text: only when the fleet is built with `insecure_plaintext`.
    pub fn plaintext() -> Self {
        Self { keys: Vec::new() }
    }

    /// Seals with `current`, opens with it or any of `previous`.
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        let mut keys = vec![SealKey::new(current)];
        keys.extend(previous.iter().map(SealKey::new));
        Self { keys }
    }

    /// The id of the key values are sealed with (`None`: plain text).
    pub fn key_id(&self) -> Option<&str> {
        self.keys.first().map(|k| k.id.as_str())
    }

    /// The subkeys naming Redis keys derived from a device's id or address, the current key's
    /// first, then those of the previous keys (empty in plain text).
    pub fn name_keys(&self) -> Vec<[u8; 32]> {
        self.keys.iter().map(|k| k.name).collect()
    }

    /// `value`, sealed for the Redis key `key`.
    pub fn seal(&self, key: &str, value: &str) -> String {
        let Some(k) = self.keys.first() else {
            return value.to_string();
        };
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: value.as_bytes(),
            aad: key.as_bytes(),
        };
        // Encryption of a slice in memory cannot fail (only a message beyond 64 GiB would).
        let sealed = k.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}.{}", k.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The value stored under the Redis key `key`, opened.
    pub fn open(&self, key: &str, stored: &str) -> Result<String, Unreadable> {
        if self.keys.is_empty() {
            return Ok(stored.to_string());
        }
        let rest = stored.strip_prefix(PREFIX).ok_or(Unreadable::Tampered)?;
        let (id, body) = rest.split_once('.').ok_or(Unreadable::Tampered)?;
        let k = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(Unreadable::UnknownKey)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| Unreadable::Tampered)?;
        if bytes.len() < NONCE {
            return Err(Unreadable::Tampered);
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let payload = Payload {
            msg: sealed,
            aad: key.as_bytes(),
        };
        let plain = k
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| Unreadable::Tampered)?;
        String::from_utf8(plain).map_err(|_| Unreadable::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_their_key_and_name() {
        let old = Sealer::new(&[7; 32], &[]);
        let new = Sealer::new(&[9; 32], &[[7; 32]]);
        let sealed = old.seal("k", r#"{"secret":"s3cr3t"}"#);
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(new.open("k", &sealed).unwrap(), r#"{"secret":"s3cr3t"}"#);
        assert_eq!(new.open("other", &sealed), Err(Unreadable::Tampered));
        let other = Sealer::new(&[1; 32], &[]);
        assert_eq!(other.open("k", &sealed), Err(Unreadable::UnknownKey));
        // A changed byte anywhere in the body.
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        assert_eq!(old.open("k", &changed), Err(Unreadable::Tampered));
        assert_eq!(old.open("k", "{\"plain\":1}"), Err(Unreadable::Tampered));
        // Two seals of one value differ (fresh nonces).
        assert_ne!(old.seal("k", "v"), old.seal("k", "v"));
        assert_eq!(
            format!("{new:?}")
                .matches(&new.key_id().unwrap().to_string())
                .count(),
            1
        );
    }

    #[test]
    fn hmac_matches_rfc_4231_and_names_differ_by_key() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let a = Sealer::new(&[7; 32], &[[9; 32]]);
        let names = a.name_keys();
        assert_eq!(names.len(), 2);
        assert_eq!(names[0], name_key(&[7; 32]));
        assert_ne!(names[0], [7; 32], "a subkey, not the sealing key");
        assert_ne!(names[0], names[1]);
        assert!(Sealer::plaintext().name_keys().is_empty());
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 32);
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        let key = STANDARD.encode([3u8; 32]);
        assert_eq!(decode_key(&key, "k").unwrap(), [3; 32]);
        let url = URL_SAFE_NO_PAD.encode([250u8; 32]);
        assert_eq!(decode_key(&url, "k").unwrap(), [250; 32]);
        assert!(decode_key(&STANDARD.encode([3u8; 16]), "k").is_err());
        assert!(decode_key("not base64!", "k").is_err());
    }
}
