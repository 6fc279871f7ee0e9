//! The clock and the timers the SDK waits with: tokio's natively; on wasm32 (the web TV
//! platforms) the JavaScript event loop's, since tokio has no timer there and `std::time` no
//! clock: `web-time` gives `Instant` and the wall clock from `performance.now()` and
//! `Date.now()`, `gloo-timers` sleeps with `setTimeout`. Pacing, retries, deadlines, polling and
//! the configuration cache all go through here, so they behave the same on both.

use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use tokio::time::{sleep, timeout, Instant};

#[cfg(target_arch = "wasm32")]
pub(crate) use web_time::Instant;

/// Waits `duration` on the JavaScript event loop.
#[cfg(target_arch = "wasm32")]
pub(crate) async fn sleep(duration: Duration) {
    gloo_timers::future::sleep(duration).await
}

/// The deadline passed before the future finished.
#[cfg(target_arch = "wasm32")]
#[derive(Debug)]
pub(crate) struct Elapsed;

/// Runs `future` for at most `duration`.
#[cfg(target_arch = "wasm32")]
pub(crate) async fn timeout<F: std::future::Future>(
    duration: Duration,
    future: F,
) -> Result<F::Output, Elapsed> {
    use futures_util::future::{select, Either};
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep(duration));
    match select(future, timer).await {
        Either::Left((output, _)) => Ok(output),
        Either::Right(_) => Err(Elapsed),
    }
}

/// The time since the Unix epoch, by the device's clock (zero if the clock is before it).
pub(crate) fn since_epoch() -> Duration {
    #[cfg(not(target_arch = "wasm32"))]
    use std::time::{SystemTime, UNIX_EPOCH};
    #[cfg(target_arch = "wasm32")]
    use web_time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch, by the device's clock.
pub(crate) fn now_ms() -> i64 {
    since_epoch().as_millis() as i64
}
