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

/// Storage in a directory, one file per key, written atomically and durably.
///
/// A write creates a new temporary file of an unpredictable name in the same directory,
/// exclusively (`O_CREAT|O_EXCL`, and `O_NOFOLLOW` on Unix, so that nothing planted there,
/// a symbolic link included, is ever opened), writes the value, flushes it to disk, renames it
/// over the key's file and flushes the directory. Writers of one key in several processes
/// never mix their values: a read gives one of the values written, whole.
///
/// On Unix the directory is created owner-only (0700), or tightened to 0700 if it exists with
/// wider permissions, and files are created owner-only (0600). Keys are encoded into safe file
/// names.
#[derive(Debug)]
pub struct FileStorage {
    dir: PathBuf,
}

/// The temporary files of writes carry this mark, which no encoded key contains (`~` is
/// escaped in keys).
const TMP_MARK: &str = ".~tvpass-";

impl FileStorage {
    /// Storage in `dir`, created if missing (owner-only on Unix; an existing directory readable
    /// by others is tightened to owner-only). Fails with [`StorageError`] when the directory
    /// cannot be created or its permissions set.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| StorageError(format!("cannot create storage directory: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(&dir)
                .map_err(|e| StorageError(format!("cannot read storage directory: {e}")))?;
            if meta.permissions().mode() & 0o777 != 0o700 {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(
                    |e| StorageError(format!("cannot make storage directory owner-only: {e}")),
                )?;
            }
        }
        Ok(Self { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(file_name(key))
    }

    /// Creates a new temporary file in the directory, exclusively, under a name no one can
    /// predict; another name is tried if one exists already.
    fn create_temporary(&self) -> std::io::Result<(PathBuf, std::fs::File)> {
        let mut last = None;
        for _ in 0..8 {
            let tmp = self.dir.join(format!("{TMP_MARK}{:016x}", unpredictable()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
            }
            match options.open(&tmp) {
                Ok(f) => return Ok((tmp, f)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no temporary file")))
    }

    /// Flushes the directory's entries (the rename) to disk.
    fn sync_dir(&self) -> std::io::Result<()> {
        #[cfg(unix)]
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

/// `key` as a file name: letters, digits, `-`, `_` and `.` as they are, every other byte as
/// `%XX`; a name that would be `.` or `..`, or start with `.~`, has its first byte escaped.
fn file_name(key: &str) -> String {
    let mut name: String = key
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    if name.is_empty() || name == "." || name == ".." {
        name = key.bytes().map(|b| format!("%{b:02X}")).collect();
        if name.is_empty() {
            name = "%".to_string();
        }
    }
    name
}

/// 64 bits no other process can predict: std's randomly seeded hasher over the process, a
/// counter and the time.
fn unpredictable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
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
        let path = self.path(key);
        let (tmp, mut f) = self
            .create_temporary()
            .map_err(|e| StorageError(format!("cannot create a temporary file: {e}")))?;
        let written =
            std::io::Write::write_all(&mut f, value.as_bytes()).and_then(|()| f.sync_all());
        // Closed before the rename (an open file cannot be renamed on Windows).
        drop(f);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(StorageError(format!("cannot write a stored value: {e}")));
        }
        self.sync_dir()
            .map_err(|e| StorageError(format!("cannot flush the storage directory: {e}")))
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
///
/// A key whose read failed (the store was unavailable, not empty) is neither written nor
/// removed for the rest of the process: the SDK goes on as signed out for it, and the value
/// kept by the store is read again at the next start rather than replaced by a new state.
pub(crate) struct Store {
    inner: std::sync::Arc<dyn Storage>,
    prefix: String,
    unread: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Store {
    pub(crate) fn new(inner: std::sync::Arc<dyn Storage>, prefix: String) -> Self {
        Self {
            inner,
            prefix,
            unread: Default::default(),
        }
    }

    /// Whether `name`'s read failed in this process (its stored value is kept as it is).
    fn kept(&self, name: &str) -> bool {
        let unread = self.unread.lock().unwrap_or_else(|p| p.into_inner());
        if unread.contains(name) {
            tracing::debug!(
                key = name,
                "not written: its stored value could not be read"
            );
            return true;
        }
        false
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
                tracing::warn!(
                    key = name,
                    error = %e,
                    "storage read failed; signed out for it in this process, the stored value kept"
                );
                self.unread
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(name.to_string());
                None
            }
        }
    }

    pub(crate) fn save<T: serde::Serialize>(&self, name: &str, value: &T) {
        if self.kept(name) {
            return;
        }
        let Ok(text) = serde_json::to_string(value) else {
            return;
        };
        if let Err(e) = self.inner.set(&self.key(name), &text) {
            tracing::warn!(key = name, error = %e, "storage write failed");
        }
    }

    pub(crate) fn delete(&self, name: &str) {
        if self.kept(name) {
            return;
        }
        if let Err(e) = self.inner.remove(&self.key(name)) {
            tracing::warn!(key = name, error = %e, "storage remove failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// A store that fails its reads while `down`, over memory.
    struct Flaky {
        down: AtomicBool,
        memory: MemoryStorage,
    }

    impl Storage for Flaky {
        fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
            if self.down.load(Ordering::Relaxed) {
                return Err(StorageError("locked".into()));
            }
            self.memory.get(key)
        }
        fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
            self.memory.set(key, value)
        }
        fn remove(&self, key: &str) -> Result<(), StorageError> {
            self.memory.remove(key)
        }
    }

    #[test]
    fn a_key_whose_read_failed_is_kept_as_stored_for_the_next_start() {
        let flaky = Arc::new(Flaky {
            down: AtomicBool::new(true),
            memory: MemoryStorage::new(),
        });
        flaky.memory.set("p.token", "\"old\"").unwrap();
        let store = Store::new(flaky.clone(), "p".into());
        assert_eq!(store.load::<String>("token"), None);
        // The store answers again: this process still leaves the key as it was.
        flaky.down.store(false, Ordering::Relaxed);
        store.save("token", &"new".to_string());
        store.delete("token");
        assert_eq!(
            flaky.memory.get("p.token").unwrap().as_deref(),
            Some("\"old\"")
        );
        // Another key is written as usual; the next start reads the old value.
        store.save("other", &1);
        assert_eq!(flaky.memory.get("p.other").unwrap().as_deref(), Some("1"));
        let next = Store::new(flaky.clone(), "p".into());
        assert_eq!(next.load::<String>("token").as_deref(), Some("old"));
    }
}
