//! The app's storage and the polling listener: the foreign `Storage` and `PollListener` traits
//! and their adapters to the core's `Storage` and `PollObserver`.

use super::core;
use std::sync::{Arc, Mutex};

/// Why the app's `Storage` could not read, write or remove a value (Kotlin: `StorageException`).
/// The reason names the failure (an `OSStatus`, an exception's class), never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum StorageError {
    /// Not available now (the device is locked, the key store is busy); the stored value is kept
    /// and a later call may succeed.
    #[error("storage unavailable: {reason}")]
    Unavailable {
        /// What failed.
        reason: String,
    },
    /// Any other failure.
    #[error("storage failed: {reason}")]
    Failed {
        /// What failed.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for StorageError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { reason: e.reason }
    }
}

/// Storage the app implements: the Keychain on Apple platforms (`KeychainStorage`), the Android
/// Keystore on Android (`KeystoreStorage`). Return `null`/`nil` for a missing value; throw
/// `StorageError` (Kotlin: `StorageException`) when the store fails, without the value in the
/// reason. The SDK logs each failure once at `warn`, keeps the latest for
/// `PassClient.lastStorageError`, and carries on: a value it cannot read counts as missing (the
/// call proceeds as on a fresh install: signed out), one it cannot write lasts for the process.
#[uniffi::export(with_foreign)]
pub trait Storage: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: String) -> Result<Option<String>, StorageError>;
    /// Stores `value` under `key`.
    fn set(&self, key: String, value: String) -> Result<(), StorageError>;
    /// Removes `key` (a missing key is not an error).
    fn remove(&self, key: String) -> Result<(), StorageError>;
}

/// The app's storage as the core's: errors become the core's `StorageError` (which the core logs,
/// once per failed operation; the adapter logs nothing of its own), the latest kept for the app.
pub(super) struct StorageAdapter {
    inner: Arc<dyn Storage>,
    last_error: Mutex<Option<StorageError>>,
}

impl StorageAdapter {
    pub(super) fn new(inner: Arc<dyn Storage>) -> Self {
        Self {
            inner,
            last_error: Mutex::new(None),
        }
    }

    /// The latest failure since the client was built, if any.
    pub(super) fn last_error(&self) -> Option<StorageError> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn lift<T>(&self, r: Result<T, StorageError>) -> Result<T, core::StorageError> {
        r.map_err(|e| {
            let core_error = core::StorageError(e.to_string());
            *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
            core_error
        })
    }
}

impl core::Storage for StorageAdapter {
    fn get(&self, key: &str) -> Result<Option<String>, core::StorageError> {
        self.lift(self.inner.get(key.to_string()))
    }
    fn set(&self, key: &str, value: &str) -> Result<(), core::StorageError> {
        self.lift(self.inner.set(key.to_string(), value.to_string()))
    }
    fn remove(&self, key: &str) -> Result<(), core::StorageError> {
        self.lift(self.inner.remove(key.to_string()))
    }
}

/// Progress of `awaitProfile`.
#[uniffi::export(with_foreign)]
pub trait PollListener: Send + Sync {
    /// Called after each poll that found no profile yet.
    fn on_poll(&self, polls: u32);
}

pub(super) struct ListenerAdapter(pub(super) Arc<dyn PollListener>);

impl core::PollObserver for ListenerAdapter {
    fn on_poll(&self, polls: u32) {
        self.0.on_poll(polls)
    }
}
