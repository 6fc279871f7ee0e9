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

/// The service's clock as the device knows it: the device's clock corrected by the offset the
/// service's answers show. Expiry (a session's code, profiles, Permits) is the service's to
/// judge, and a TV's clock can be hours or days off: judged on the device's clock, a clock an
/// hour fast ended every login before the user finished.
///
/// The `Date` of every answer the service itself wrote (not a 5xx or 429, which a proxy or load
/// balancer may write, nor one a cache kept, with an `Age`), at one-second resolution, and a new
/// session's `notBefore` where no `Date` can be read are readings of the service's clock. An offset
/// under [`ServiceClock::TOLERANCE_MS`] is taken as none, so that a good clock is never moved by
/// a reading's rounding or the network's delay.
#[derive(Debug, Default)]
pub(crate) struct ServiceClock {
    offset_ms: std::sync::atomic::AtomicI64,
    /// Whether an answer carried a `Date` the device could read (a browser hides it from a
    /// cross-origin answer that does not expose it): then the bodies' times are not needed.
    dated: std::sync::atomic::AtomicBool,
}

impl ServiceClock {
    /// Offsets smaller than this are the readings' own error: a `Date` is rounded down to the
    /// second, and an answer spends time on the way.
    pub const TOLERANCE_MS: i64 = 2_000;

    /// Now on the service's clock, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms())
    }

    /// How far the service's clock is ahead of the device's (negative: behind).
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes a reading: the service's clock said `service_ms` when the device's said
    /// `device_ms`. Readings before 2001 or after 2200 are no clock's.
    pub fn observe(&self, service_ms: i64, device_ms: i64) {
        const EARLIEST: i64 = 978_307_200_000; // 2001-01-01
        const LATEST: i64 = 7_258_118_400_000; // 2200-01-01
        if !(EARLIEST..LATEST).contains(&service_ms) {
            return;
        }
        let reading = service_ms.saturating_sub(device_ms);
        let current = self.offset_ms();
        // A band, so that a clock about the tolerance off does not flip: an offset is taken
        // from the tolerance up and dropped under half of it.
        let offset = if reading.abs() >= Self::TOLERANCE_MS {
            reading
        } else if reading.abs() < Self::TOLERANCE_MS / 2 || current == 0 {
            0
        } else {
            reading
        };
        // Readings of one clock differ by their error; a change within it is no news.
        if offset == 0 || (offset - current).abs() >= Self::TOLERANCE_MS / 2 {
            self.offset_ms
                .store(offset, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Takes an answer's `Date` header (an IMF-fixdate, rounded down to the second: its middle
    /// is taken), the answer having come `round_trip` after its request left: the device's
    /// time of the reading is the exchange's middle. An exchange over 10 s says too little.
    pub fn observe_date(&self, date: &str, round_trip: Duration) {
        if round_trip > Duration::from_secs(10) {
            return;
        }
        if let Some(at) = parse_http_date(date) {
            let ms = i64::try_from(at.as_millis()).unwrap_or(i64::MAX);
            self.dated.store(true, std::sync::atomic::Ordering::Relaxed);
            let half = i64::try_from(round_trip.as_millis() / 2).unwrap_or(0);
            self.observe(ms.saturating_add(500), now_ms().saturating_sub(half));
        }
    }

    /// Takes the creation time a body gives (a new session's `notBefore`), where no answer
    /// carried a readable `Date`.
    pub fn observe_created(&self, service_ms: i64) {
        if !self.dated.load(std::sync::atomic::Ordering::Relaxed) {
            self.observe(service_ms, now_ms());
        }
    }
}

/// The time an IMF-fixdate (RFC 9110's preferred HTTP date, `Sun, 06 Nov 1994 08:49:37 GMT`)
/// names, as a time since the Unix epoch. The obsolete forms (RFC 850, asctime), dates before
/// 1970 and anything else are refused (`None`).
pub(crate) fn parse_http_date(text: &str) -> Option<Duration> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = text.trim().as_bytes();
    // "Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes, fixed positions.
    if b.len() != 29
        || &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &b[25..] != b" GMT"
    {
        return None;
    }
    let word = |at: usize| std::str::from_utf8(&b[at..at + 3]).ok();
    let number = |at: usize, len: usize| -> Option<u64> {
        let digits = &b[at..at + len];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(digits.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
    };
    let weekday = DAYS.iter().position(|d| Some(*d) == word(0))?;
    let month = MONTHS.iter().position(|m| Some(*m) == word(8))? as u64 + 1;
    let (day, year) = (number(5, 2)?, number(12, 4)?);
    let (hour, minute, second) = (number(17, 2)?, number(20, 2)?, number(23, 2)?);
    // A leap second (60) is allowed by the grammar; it counts as the next second.
    if year < 1970 || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let days = days_since_epoch(year, month, day);
    // 1970-01-01 was a Thursday; a date whose day name is wrong is not that date.
    if (days + 3) % 7 != weekday as u64 {
        return None;
    }
    Some(Duration::from_secs(
        days * 86_400 + hour * 3600 + minute * 60 + second,
    ))
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` (a valid date from 1970 on).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let years: u64 = (1970..year).map(|y| 365 + u64::from(is_leap(y))).sum();
    let months: u64 = (1..month).map(|m| days_in_month(year, m)).sum();
    years + months + day - 1
}

#[cfg(test)]
mod tests {
    use super::{parse_http_date, ServiceClock};
    use std::time::Duration;

    const NOW: i64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_service_clock_follows_readings_past_their_error_only() {
        let clock = ServiceClock::default();
        assert_eq!(clock.offset_ms(), 0);
        // A device an hour fast, a day slow: the service's clock is behind, then ahead.
        clock.observe(NOW - HOUR, NOW);
        assert_eq!(clock.offset_ms(), -HOUR);
        clock.observe(NOW - HOUR + 600, NOW);
        assert_eq!(
            clock.offset_ms(),
            -HOUR,
            "a reading within its error moves nothing"
        );
        clock.observe(NOW + 24 * HOUR, NOW);
        assert_eq!(clock.offset_ms(), 24 * HOUR);
        // A good clock: the rounding of a Date and the way's delay are no offset.
        clock.observe(NOW + 500, NOW);
        assert_eq!(clock.offset_ms(), 0);
        clock.observe(NOW + 1_500, NOW);
        assert_eq!(clock.offset_ms(), 0);
        clock.observe(NOW - 1_999, NOW);
        assert_eq!(clock.offset_ms(), 0);
        clock.observe(NOW - 2_000, NOW);
        assert_eq!(clock.offset_ms(), -2_000);
        // Readings that are no clock's are ignored.
        for absurd in [0, -1, i64::MIN, i64::MAX, 978_307_199_999] {
            clock.observe(absurd, NOW);
            assert_eq!(clock.offset_ms(), -2_000, "{absurd}");
        }
        // Inside the band an offset taken stays; under half the tolerance it goes.
        clock.observe(NOW - 1_500, NOW);
        assert_eq!(clock.offset_ms(), -2_000);
        clock.observe(NOW - 900, NOW);
        assert_eq!(clock.offset_ms(), 0);
        clock.observe(NOW - 1_500, NOW);
        assert_eq!(clock.offset_ms(), 0, "from none, the band takes none");
    }

    #[test]
    fn a_body_time_counts_only_where_no_date_was_read() {
        let clock = ServiceClock::default();
        clock.observe_created(super::now_ms() + 5 * HOUR);
        assert!((clock.offset_ms() - 5 * HOUR).abs() < 1_000);
        clock.observe_date("not a date", Duration::ZERO);
        assert!((clock.offset_ms() - 5 * HOUR).abs() < 1_000);
        clock.observe_date("Sat, 01 Jan 2000 00:00:00 GMT", Duration::ZERO);
        assert!(
            (clock.offset_ms() - 5 * HOUR).abs() < 1_000,
            "before 2001: no clock's"
        );
        let date = httpdate(super::now_ms() - 3 * HOUR);
        clock.observe_date(&date, Duration::from_secs(11));
        assert!(
            (clock.offset_ms() - 5 * HOUR).abs() < 1_000,
            "an exchange of 11 s says too little"
        );
        clock.observe_date(&date, Duration::from_millis(300));
        assert!((clock.offset_ms() + 3 * HOUR).abs() < 1_500, "{date}");
        clock.observe_created(super::now_ms() + 5 * HOUR);
        assert!(
            (clock.offset_ms() + 3 * HOUR).abs() < 1_500,
            "a Date was read"
        );
        assert!((clock.now_ms() - (super::now_ms() - 3 * HOUR)).abs() < 1_500);
    }

    /// An IMF-fixdate of `ms` (for the tests: the days of 2026 to 2030).
    fn httpdate(ms: i64) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let secs = ms / 1000;
        let days = secs / 86_400;
        let (mut year, mut left): (u64, i64) = (1970, days);
        loop {
            let len = if super::is_leap(year) { 366 } else { 365 };
            if left < len {
                break;
            }
            left -= len;
            year += 1;
        }
        let mut month: u64 = 1;
        while left >= super::days_in_month(year, month) as i64 {
            left -= super::days_in_month(year, month) as i64;
            month += 1;
        }
        let t = secs % 86_400;
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            DAYS[(days % 7) as usize],
            left + 1,
            MONTHS[month as usize - 1],
            year,
            t / 3600,
            t / 60 % 60,
            t % 60
        )
    }

    #[test]
    fn imf_fixdates_parse_to_their_unix_time() {
        // RFC 9110's example, and dates checked with `date -u -d ... +%s`.
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::from_secs(784_111_777))
        );
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT"),
            Some(Duration::from_secs(1_709_251_199))
        );
        assert_eq!(
            parse_http_date(" Fri, 31 Dec 2100 12:00:00 GMT "),
            Some(Duration::from_secs(4_133_937_600))
        );
    }

    #[test]
    fn other_forms_and_impossible_dates_are_refused() {
        for text in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Fri, 29 Feb 2023 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Sun, 06 Nov 1994 08:49:3x GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTé",
        ] {
            assert_eq!(parse_http_date(text), None, "{text:?}");
        }
    }
}
