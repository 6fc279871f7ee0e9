//! Output for people: local dates with the time left, and a countdown line while a login is
//! awaited.

use chrono::{Local, TimeZone};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `2026-11-25 14:02 (in 5 h 59 min)` for a time in milliseconds since the Unix epoch, in the
/// local time zone, relative to `now_ms`.
pub fn until(at_ms: i64, now_ms: i64) -> String {
    let date = Local
        .timestamp_millis_opt(at_ms)
        .single()
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| format!("{at_ms} ms"));
    let left = at_ms - now_ms;
    if left >= 0 {
        format!("{date} (in {})", span(left))
    } else {
        format!("{date} ({} ago)", span(-left))
    }
}

/// A duration in words: `29 d 23 h`, `5 h 59 min`, `4 min 10 s`, `12 s`.
pub fn span(ms: i64) -> String {
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min {sec} s")
    } else {
        format!("{sec} s")
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    Local::now().timestamp_millis()
}

/// A countdown on standard error while a login is awaited: `⠋ waiting for the login (code X),
/// 29 min 55 s left, 3 polls`. Shown only when standard error is a terminal.
pub struct Countdown {
    stop: Arc<AtomicBool>,
    polls: Arc<AtomicU32>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Countdown {
    /// Starts the line (or nothing when `enabled` is false or stderr is not a terminal).
    pub fn start(enabled: bool, code: &str, not_after_ms: Option<i64>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicU32::new(0));
        let task = (enabled && std::io::stderr().is_terminal()).then(|| {
            let (stop, polls, code) = (stop.clone(), polls.clone(), code.to_string());
            tokio::spawn(async move {
                const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let left = not_after_ms
                        .map(|t| format!(", {} left", span((t - now_ms()).max(0))))
                        .unwrap_or_default();
                    {
                        let mut err = std::io::stderr().lock();
                        let _ = write!(
                            err,
                            "\r\x1b[2K{} waiting for the login (code {code}){left}, {} polls",
                            FRAMES[i % FRAMES.len()],
                            polls.load(Ordering::Relaxed)
                        );
                        let _ = err.flush();
                    }
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
            })
        });
        Self { stop, polls, task }
    }

    /// Ends the line.
    pub async fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl tvpass::PollObserver for Countdown {
    fn on_poll(&self, polls: u32) {
        self.polls.store(polls, Ordering::Relaxed);
    }
}

/// A resource on one line: an MRSS document's runs of white space (its line breaks among them)
/// as one space, and past 100 characters cut with an ellipsis. `--json` keeps it whole.
pub fn resource(text: &str) -> String {
    let mut line = String::with_capacity(text.len().min(104));
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        line.push_str(word);
        if line.chars().count() > 100 {
            let cut: String = line.chars().take(99).collect();
            return cut + "…";
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_reads_on_one_line() {
        assert_eq!(resource("news"), "news");
        let rated =
            "<rss version=\"2.0\">\n  <channel>\n    <title>REF30</title>\n  </channel>\n</rss>";
        assert_eq!(
            resource(rated),
            "<rss version=\"2.0\"> <channel> <title>REF30</title> </channel> </rss>"
        );
        let long = resource(&"<item>é</item>\n".repeat(40));
        assert_eq!(long.chars().count(), 100);
        assert!(long.ends_with('…') && !long.contains('\n'));
    }

    #[test]
    fn spans_read_as_words() {
        assert_eq!(span(12_000), "12 s");
        assert_eq!(span(250_000), "4 min 10 s");
        assert_eq!(span((5 * 3600 + 59 * 60) * 1000), "5 h 59 min");
        assert_eq!(span((29 * 86_400 + 23 * 3600) * 1000), "29 d 23 h");
        let now = 1_800_000_000_000;
        assert!(until(now + 3_600_000, now).ends_with("(in 1 h 0 min)"));
        assert!(until(now - 60_000, now).ends_with("(1 min 0 s ago)"));
        assert_eq!(until(now, now).len(), "2027-01-15 08:00 (in 0 s)".len());
    }
}
