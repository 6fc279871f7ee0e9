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
    use super::parse_http_date;
    use std::time::Duration;

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
