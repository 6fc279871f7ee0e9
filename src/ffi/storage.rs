//! The app's storage and the polling listener: the foreign `Storage` and `PollListener` traits
//! and their adapters to the core's `Storage` and `PollObserver`.

use super::core;
use std::sync::Arc;

/// Storage the app implements: the Keychain on Apple platforms (`KeychainStorage`), the Android
/// Keystore on Android (`KeystoreStorage`).
/// Return `null`/`nil` for a missing value; failures may be swallowed (the SDK starts over).
#[uniffi::export(with_foreign)]
pub trait Storage: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: String) -> Option<String>;
    /// Stores `value` under `key`.
    fn set(&self, key: String, value: String);
    /// Removes `key`.
    fn remove(&self, key: String);
}

pub(super) struct StorageAdapter(pub(super) Arc<dyn Storage>);

impl core::Storage for StorageAdapter {
    fn get(&self, key: &str) -> std::result::Result<Option<String>, core::StorageError> {
        Ok(self.0.get(key.to_string()))
    }
    fn set(&self, key: &str, value: &str) -> std::result::Result<(), core::StorageError> {
        self.0.set(key.to_string(), value.to_string());
        Ok(())
    }
    fn remove(&self, key: &str) -> std::result::Result<(), core::StorageError> {
        self.0.remove(key.to_string());
        Ok(())
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
