//! A controllable clock: real time plus an offset that the admin API can advance.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The emulator's clock, in milliseconds since the Unix epoch.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Now, as the emulator sees it.
    pub fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        real.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (tokens, sessions, profiles and TempPass expire without sleeping).
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms.max(0), Ordering::Relaxed);
    }

    /// How far the clock runs ahead of real time, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Sets how far the clock runs ahead of real time (a saved state's clock).
    pub fn set_offset_ms(&self, ms: i64) {
        self.offset_ms.store(ms.max(0), Ordering::Relaxed);
    }

    /// Sets the clock this far from real time, behind as well as ahead: a device whose clock
    /// is off by `-ms` (a service behind a device an hour fast is `-3_600_000`).
    /// The skew is held to 100 years either way.
    pub fn set_skew_ms(&self, ms: i64) {
        const CENTURY_MS: i64 = 100 * 365 * 24 * 3_600_000;
        self.offset_ms
            .store(ms.clamp(-CENTURY_MS, CENTURY_MS), Ordering::Relaxed);
    }

    /// Now as an HTTP date (an IMF-fixdate), for the `Date` of every answer.
    pub fn http_date(&self) -> String {
        // Up to the year 9999, the last an HTTP date can name.
        let ms = u64::try_from(self.now_ms())
            .unwrap_or(0)
            .min(253_402_300_799_000);
        httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_millis(ms))
    }

    /// Puts the clock back to real time.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}
