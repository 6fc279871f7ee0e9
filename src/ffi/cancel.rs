//! Cancellation from the foreign side: the `CancellationToken` a Swift Task or Kotlin coroutine
//! cancels, and the helper that ends a call when it is cancelled.

use super::core;
use super::error::{PassError, Result};
use std::sync::Arc;

/// Cancels a long call from the foreign side (Swift Task cancellation handlers).
#[derive(Debug, Default, uniffi::Object)]
pub struct CancellationToken {
    cancelled: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

#[uniffi::export]
impl CancellationToken {
    /// A token not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Cancels: the call using the token ends at once with `Cancelled`.
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl CancellationToken {
    async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Runs a call until it ends or the token is cancelled. On cancellation the call's future is
/// dropped at once: its request is abandoned (the connection closes) and nothing more is
/// written; state written before (tokens, profiles) is complete, as every write happens
/// between awaits.
pub(super) async fn cancellable<T>(
    token: Option<Arc<CancellationToken>>,
    call: impl std::future::Future<Output = std::result::Result<T, core::PassError>>,
) -> Result<T> {
    match token {
        None => Ok(call.await?),
        Some(token) => tokio::select! {
            biased;
            _ = token.cancelled() => Err(PassError::Cancelled),
            r = call => Ok(r?),
        },
    }
}
