//! Which device started each session: a code is polled only by its device (or by a device the
//! authenticator allows), so that a caller who learns a code cannot take the login it ends.
//!
//! Codes are kept by an HMAC of the code, never as they are, with the owner's id, until the
//! session expires: in this instance's memory, and in the fleet's Redis where there is one, so
//! that a poll may reach any instance. Redis away, a code another instance bound is unknown
//! here (404): the binding fails closed.

use hmac::{Hmac, Mac};
use redis::aio::ConnectionManager;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most codes one instance keeps in memory (each some 100 bytes).
pub const MAX_CODES: usize = 100_000;
/// The longest a binding is kept: Adobe's codes live 30 minutes.
pub const MAX_TTL: Duration = Duration::from_secs(60 * 60);

/// The book of codes and the devices that started them.
pub struct Codes {
    key: Hmac<Sha256>,
    memory: Mutex<HashMap<[u8; 32], (String, Instant)>>,
    redis: Option<ConnectionManager>,
}

impl Codes {
    /// A book keyed by `secret` (the same on every instance of a fleet), kept in memory and,
    /// with `redis`, in the fleet's Redis too.
    pub fn new(secret: &[u8], redis: Option<ConnectionManager>) -> Self {
        let mut key = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        key.update(b"tvpass-gateway codes v1\0");
        Self {
            key,
            memory: Mutex::new(HashMap::new()),
            redis,
        }
    }

    /// A book for Redis at `url` (connected lazily: Redis may come up after the gateway).
    pub fn with_redis(secret: &[u8], url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("TVPASS_REDIS_URL: not a Redis URL ({})", e.category()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("TVPASS_REDIS_URL: {}", e.category()))?;
        Ok(Self::new(secret, Some(conn)))
    }

    fn digest(&self, code: &str) -> [u8; 32] {
        let mut mac = self.key.clone();
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn redis_key(digest: &[u8; 32]) -> String {
        let hex: String = digest[..20].iter().map(|b| format!("{b:02x}")).collect();
        format!("tvpass:gateway:code:{hex}")
    }

    /// Records that `owner` started the session of `code`, for `ttl` (at most [`MAX_TTL`]).
    pub async fn bind(&self, code: &str, owner: &str, ttl: Duration) {
        let ttl = ttl.clamp(Duration::from_secs(1), MAX_TTL);
        let digest = self.digest(code);
        {
            let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
            if memory.len() >= MAX_CODES {
                let now = Instant::now();
                memory.retain(|_, (_, until)| *until > now);
                if memory.len() >= MAX_CODES {
                    // Still full of live codes: the one closest to its end goes.
                    if let Some(k) = memory.iter().min_by_key(|(_, (_, u))| *u).map(|(k, _)| *k) {
                        memory.remove(&k);
                    }
                }
            }
            memory.insert(digest, (owner.to_string(), Instant::now() + ttl));
        }
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let set: Result<(), _> = redis::cmd("SET")
                .arg(Self::redis_key(&digest))
                .arg(owner)
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .query_async(&mut conn)
                .await;
            if let Err(e) = set {
                tracing::warn!(error = %e.category(), "a session's code could not be kept in Redis; only this instance answers its polls");
            }
        }
    }

    /// The device that started the session of `code`, if it is known and not expired.
    pub async fn owner(&self, code: &str) -> Option<String> {
        let digest = self.digest(code);
        {
            let memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((owner, until)) = memory.get(&digest) {
                if *until > Instant::now() {
                    return Some(owner.clone());
                }
            }
        }
        let mut conn = self.redis.clone()?;
        let got: Result<Option<String>, _> = redis::cmd("GET")
            .arg(Self::redis_key(&digest))
            .query_async(&mut conn)
            .await;
        got.unwrap_or_else(|e| {
            tracing::warn!(error = %e.category(), "a session's code could not be read from Redis");
            None
        })
    }

    /// Codes kept in this instance's memory.
    pub fn len(&self) -> usize {
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no code is kept in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_code_is_known_to_its_owner_until_it_expires() {
        let codes = Codes::new(b"secret", None);
        codes.bind("ABC123", "dev-1", Duration::from_secs(60)).await;
        assert_eq!(codes.owner("ABC123").await.as_deref(), Some("dev-1"));
        assert_eq!(codes.owner("ABC124").await, None);
        codes.bind("OLD", "dev-2", Duration::from_millis(1)).await;
        // The shortest binding is a second.
        assert_eq!(codes.owner("OLD").await.as_deref(), Some("dev-2"));
    }

    #[tokio::test]
    async fn the_book_is_bounded() {
        let codes = Codes::new(b"secret", None);
        for i in 0..MAX_CODES + 10 {
            codes
                .bind(&format!("C{i}"), "d", Duration::from_secs(60))
                .await;
        }
        assert_eq!(codes.len(), MAX_CODES);
        assert!(codes.owner(&format!("C{}", MAX_CODES + 9)).await.is_some());
    }
}
