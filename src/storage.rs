//! Where the SDK keeps what must survive a restart: client credentials, the access token,
//! profiles, the chosen MVPD and the device identifier.
//!
//! The host decides where secrets live by implementing [`Storage`] (Keychain on Apple
//! platforms, values sealed with an Android Keystore key on Android). [`MemoryStorage`] and
//! [`FileStorage`] are ready for tests, services and command-line tools.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A storage failure, reported by the host.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

/// Small key-value storage the host implements. Values are short UTF-8 strings (JSON).
///
/// The SDK treats a failing or corrupt storage as empty: it starts over quietly (registering
/// again, fetching a token again) rather than failing the app's call.
pub trait Storage: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<String>, StorageError>;
    /// Stores `value` under `key`, replacing any previous value.
    fn set(&self, key: &str, value: &str) -> Result<(), StorageError>;
    /// Removes `key` (absent keys are not an error).
    fn remove(&self, key: &str) -> Result<(), StorageError>;
}

/// Storage in memory: lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    values: Mutex<HashMap<String, String>>,
}

impl MemoryStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    fn values(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.values.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The keys currently stored (for tests and diagnostics).
    pub fn keys(&self) -> Vec<String> {
        self.values().keys().cloned().collect()
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self.values().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.values().insert(key.to_string(), value.to_string());
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), StorageError> {
        self.values().remove(key);
        Ok(())
    }
}

/// Storage in a directory, one file per key, written atomically (temporary file, then rename).
///
/// Files are created with owner-only permissions on Unix. Keys are encoded into safe file
/// names.
#[derive(Debug)]
pub struct FileStorage {
    dir: PathBuf,
    lock: Mutex<()>,
}

impl FileStorage {
    /// Storage in `dir`, created if missing.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|e| StorageError(format!("cannot create storage directory: {e}")))?;
        Ok(Self {
            dir,
            lock: Mutex::new(()),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        let name: String = key
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.dir.join(name)
    }
}

impl Storage for FileStorage {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        match std::fs::read_to_string(self.path(key)) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError(format!("cannot read a stored value: {e}"))),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.path(key);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(&tmp)?;
            std::io::Write::write_all(&mut f, value.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            StorageError(format!("cannot write a stored value: {e}"))
        })
    }

    fn remove(&self, key: &str) -> Result<(), StorageError> {
        match std::fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError(format!("cannot remove a stored value: {e}"))),
        }
    }
}

/// Typed access to the SDK's keys, tolerant of failures and corrupt values.
pub(crate) struct Store {
    inner: std::sync::Arc<dyn Storage>,
    prefix: String,
}

impl Store {
    pub(crate) fn new(inner: std::sync::Arc<dyn Storage>, prefix: String) -> Self {
        Self { inner, prefix }
    }

    fn key(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    /// The decoded value, or `None` when missing, unreadable or corrupt.
    pub(crate) fn load<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        let key = self.key(name);
        match self.inner.get(&key) {
            Ok(Some(text)) => match serde_json::from_str(&text) {
                Ok(v) => Some(v),
                Err(_) => {
                    tracing::warn!(key = name, "stored value is corrupt; starting over");
                    let _ = self.inner.remove(&key);
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(key = name, error = %e, "storage read failed; starting over");
                None
            }
        }
    }

    pub(crate) fn save<T: serde::Serialize>(&self, name: &str, value: &T) {
        let Ok(text) = serde_json::to_string(value) else {
            return;
        };
        if let Err(e) = self.inner.set(&self.key(name), &text) {
            tracing::warn!(key = name, error = %e, "storage write failed");
        }
    }

    pub(crate) fn delete(&self, name: &str) {
        if let Err(e) = self.inner.remove(&self.key(name)) {
            tracing::warn!(key = name, error = %e, "storage remove failed");
        }
    }
}
