//! The one request pipeline: pacing (through [`Pacing`], whoever keeps the bucket), bounded
//! retries with backoff and jitter, timeouts, a response size cap, and the decoding of enhanced
//! errors.

use crate::config::{RateLimit, RetryPolicy};
use crate::error::{EnhancedError, ErrorAction, PassError};
use crate::guard::{Guard, Health};
use crate::http::{
    HeaderMap, HeaderName, HeaderValue, HttpRequest, HttpTransport, Method, TransportError,
};
use crate::pace::{Pacer, Pacing};
use crate::telemetry::{Class, Endpoint};
use crate::time::Instant;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// An HTTP request, rebuilt for each attempt. `Debug` shows it as [`HttpRequest`]'s does:
/// no query values, only harmless header values, the body's length.
#[derive(Clone)]
pub(crate) struct Request {
    pub method: Method,
    pub url: url::Url,
    /// Path for logs (no query: it may carry identifiers).
    pub path: String,
    pub headers: HeaderMap,
    pub body: Option<(&'static str, bytes::Bytes)>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &crate::http::RedactedUrl(&self.url))
            .field("headers", &crate::http::RedactedHeaders(&self.headers))
            .field("body", &self.body.as_ref().map(|(ct, b)| (ct, b.len())))
            .finish()
    }
}

/// A complete answer. `Debug` shows the body's length only (a token answer holds the token).
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl Answer {
    /// The enhanced error of an error body, if it has one.
    pub fn enhanced(&self) -> Option<EnhancedError> {
        decode_enhanced(&self.body)
    }

    /// The body decoded as `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, PassError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| PassError::Protocol(format!("unexpected answer: {e}")))
    }

    /// The error for a non-success answer.
    pub fn into_error(self) -> PassError {
        if self.status == 429 {
            return PassError::Throttled;
        }
        PassError::Server {
            status: self.status,
            error: self.enhanced().map(Box::new),
        }
    }
}

/// Parses a URL the SDK composed from its checked base URL.
pub(crate) fn parse_url(text: &str) -> Result<url::Url, PassError> {
    url::Url::parse(text).map_err(|e| PassError::config("environment", e.to_string()))
}

/// A header map from names and values; values that are not valid header text are left out
/// (the builder validates every configured value before this is used).
pub(crate) fn header_map(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(pairs.len() + 2);
    for (k, v) in pairs {
        if let Ok(value) = HeaderValue::from_str(v) {
            map.insert(HeaderName::from_static(k), value);
        }
    }
    map
}

/// An `Authorization: Bearer` value, marked sensitive so that it never shows in `Debug`.
pub(crate) fn bearer(token: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// Decodes an enhanced error body: the object itself, or wrapped as `{"error": {...}}`.
pub(crate) fn decode_enhanced(body: &[u8]) -> Option<EnhancedError> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = if v.get("code").is_some() {
        &v
    } else {
        v.get("error")?
    };
    obj.get("code")?.as_str()?;
    serde_json::from_value(obj.clone()).ok()
}

/// The longest `Retry-After` honoured: a longer one is waited this long (within the call's
/// deadline).
const MAX_RETRY_AFTER: Duration = crate::pace::MAX_SILENCE;

/// The wait a `Retry-After` value asks for when read at `now` (since the Unix epoch):
/// delta-seconds, or an IMF-fixdate (a date past: no wait), at most [`MAX_RETRY_AFTER`]. `None`
/// for a value that is neither (the obsolete date forms included): it is ignored.
pub(crate) fn retry_after(value: &str, now: Duration) -> Option<Duration> {
    let v = value.trim();
    let wait = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "not soon".
        Duration::from_secs(v.parse().unwrap_or(u64::MAX))
    } else {
        crate::time::parse_http_date(v)?.saturating_sub(now)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The transport's request for one attempt.
pub(crate) fn http_request(req: Request, timeout: Duration, max_body: usize) -> HttpRequest {
    let mut headers = req.headers;
    let body = req.body.map(|(ct, b)| {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
        b
    });
    HttpRequest {
        method: req.method,
        url: req.url,
        headers,
        body,
        timeout,
        max_response_bytes: max_body,
    }
}

/// How an attempt's outcome counts for fail-fast: only 5xx, timeouts and connection errors
/// count against the service.
fn health(outcome: &Result<Outcome, PassError>) -> Health {
    match outcome {
        Ok(Outcome::Retry(PassError::Timeout(_) | PassError::Network(_), _)) => Health::Down,
        Ok(Outcome::Retry(PassError::Server { status, .. }, _)) if *status >= 500 => Health::Down,
        _ => Health::Up,
    }
}

/// Sends requests with the retry policy.
pub(crate) struct Transport {
    http: Arc<dyn HttpTransport>,
    pacing: Pacing,
    retry: RetryPolicy,
    request_timeout: Duration,
    max_body: usize,
    jitter: RandomState,
    counter: AtomicU64,
    /// A service's retry budget and fail-fast state (none for a single device).
    guard: Option<Guard>,
    /// The service's clock, read off every answer's `Date`.
    clock: crate::time::ServiceClock,
}

enum Outcome {
    Done(Answer),
    /// A transient failure, and the wait its answer's `Retry-After` asks for before a retry.
    Retry(PassError, Option<Duration>),
}

impl Transport {
    pub fn new(
        http: Arc<dyn HttpTransport>,
        rate: RateLimit,
        retry: RetryPolicy,
        request_timeout: Duration,
        max_body: usize,
    ) -> Self {
        Self {
            http,
            pacing: Pacing::Local(Arc::new(Pacer::new(rate))),
            retry,
            request_timeout,
            max_body,
            jitter: RandomState::new(),
            counter: AtomicU64::new(0),
            guard: None,
            clock: crate::time::ServiceClock::default(),
        }
    }

    /// The service's clock: expiry is judged on it.
    pub fn clock(&self) -> &crate::time::ServiceClock {
        &self.clock
    }

    /// Shares a retry budget and fail-fast across every call of this pipeline (a service's).
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Whether the service fails fast now, and for about how long (`None`: it does not).
    #[cfg(feature = "service")]
    pub fn failing_fast(&self) -> Option<Duration> {
        self.guard.as_ref().and_then(Guard::failing_fast)
    }

    /// The deadline of a call starting now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.retry.deadline
    }

    /// The pace of requests that name no device (registration, management), and of every
    /// request of a client that is one device.
    pub fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    /// Sends with retries for transient failures, at the transport's own pace. Non-retryable
    /// answers (2xx, 4xx) come back as `Ok`; exhausted retries come back as the last error.
    pub async fn send(&self, req: &Request, deadline: Instant) -> Result<Answer, PassError> {
        let endpoint = crate::telemetry::endpoint(&req.method, &req.path);
        self.send_paced(&|| req.clone(), deadline, &self.pacing, endpoint)
            .await
    }

    /// As [`send`](Self::send), at the pace of one device, with the request made afresh for
    /// each attempt (the first is moved to the transport as it is, without a copy).
    pub async fn send_paced(
        &self,
        make: &(dyn Fn() -> Request + Sync),
        deadline: Instant,
        pacing: &Pacing,
        endpoint: Endpoint,
    ) -> Result<Answer, PassError> {
        let span = crate::telemetry::span(endpoint);
        let mut ticket = match &self.guard {
            Some(g) => Some(g.admit()?),
            None => None,
        };
        crate::telemetry::call(endpoint);
        tracing::Instrument::instrument(
            self.attempts(make, deadline, pacing, endpoint, &mut ticket),
            span,
        )
        .await
    }

    async fn attempts(
        &self,
        make: &(dyn Fn() -> Request + Sync),
        deadline: Instant,
        pacing: &Pacing,
        endpoint: Endpoint,
        ticket: &mut Option<crate::guard::Ticket<'_>>,
    ) -> Result<Answer, PassError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            pacing.acquire(deadline).await?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(PassError::Timeout(self.retry.deadline));
            }
            let timeout = self.request_timeout.min(remaining);
            // The request goes straight into the transport's future, in a block of its own:
            // nothing of it is kept in this future across the exchange, which stays small.
            let (send, path) = {
                let req = make();
                let path = req.path.clone();
                (
                    self.http.send(http_request(req, timeout, self.max_body)),
                    path,
                )
            };
            let outcome = self.attempt(send, path, timeout, pacing, endpoint).await;
            if let Some(t) = ticket.as_mut() {
                t.record(health(&outcome));
            }
            let (error, asked) = match outcome? {
                Outcome::Done(a) => return Ok(a),
                Outcome::Retry(e, asked) => (e, asked),
            };
            if attempt >= self.retry.max_attempts {
                return Err(error);
            }
            // The backoff, or the answer's `Retry-After` when it asks for longer; a wait that
            // would pass the deadline ends the call with the error it got.
            let backoff = self.backoff(attempt).max(asked.unwrap_or_default());
            if Instant::now() + backoff >= deadline {
                return Err(error);
            }
            if let (Some(g), Some(t)) = (&self.guard, ticket.as_ref()) {
                if !g.retry(t) {
                    tracing::debug!(attempt, "no retry: the service's retry budget is spent");
                    return Err(error);
                }
            }
            crate::telemetry::retry(endpoint);
            tracing::debug!(attempt, ?backoff, "retrying after a transient failure");
            crate::time::sleep(backoff).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .retry
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.retry.max_backoff);
        let mut h = self.jitter.build_hasher();
        h.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        let frac = (h.finish() % 1000) as f64 / 1000.0;
        // Full jitter, but never below half the step, so retries stay spaced.
        exp.mul_f64(0.5 + frac / 2.0)
    }

    async fn attempt(
        &self,
        send: crate::http::SendFuture<'_>,
        path: String,
        timeout: Duration,
        pacing: &Pacing,
        endpoint: Endpoint,
    ) -> Result<Outcome, PassError> {
        let started = Instant::now();
        // The transport's own timeout bounds the exchange; this one guards against a transport
        // that ignores it.
        let result = if self.http.enforces_timeout() {
            send.await
        } else {
            match crate::time::timeout(timeout, send).await {
                Ok(r) => r,
                Err(_) => Err(TransportError::Timeout),
            }
        };
        let answer = match result {
            // A transport that read past the cap is held to it here.
            Ok(r) if r.body.len() > self.max_body => Err(TransportError::TooLarge),
            other => other,
        };
        let mut asked = None;
        let answer = match answer {
            Ok(r) => {
                // The service's own answers only: not a proxy's error, nor a cache's copy.
                let own = r.status < 500 && r.status != 429 && !r.headers.contains_key("age");
                if let (true, Some(date)) = (own, r.headers.get(http::header::DATE)) {
                    if let Ok(date) = date.to_str() {
                        self.clock.observe_date(date, started.elapsed());
                    }
                }
                if r.status == 429 || r.status == 503 {
                    // An HTTP date in Retry-After is on the service's clock.
                    let now = Duration::from_millis(self.clock.now_ms().max(0) as u64);
                    asked = r
                        .headers
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry_after(v, now));
                }
                Answer {
                    status: r.status,
                    body: r.body,
                }
            }
            Err(TransportError::TooLarge) => {
                tracing::warn!(path = %path, limit = self.max_body, "answer larger than the limit");
                return Err(PassError::Protocol(format!(
                    "answer larger than {} bytes",
                    self.max_body
                )));
            }
            Err(TransportError::Timeout) => {
                crate::telemetry::request(endpoint, Class::Timeout);
                tracing::debug!(path = %path, "request timed out");
                return Ok(Outcome::Retry(PassError::Timeout(started.elapsed()), None));
            }
            Err(TransportError::Connect(e) | TransportError::Other(e)) => {
                crate::telemetry::request(endpoint, Class::Network);
                tracing::debug!(path = %path, "request failed: {e}");
                return Ok(Outcome::Retry(PassError::Network(e), None));
            }
        };
        crate::telemetry::request(endpoint, Class::Status(answer.status));
        tracing::debug!(path = %path, status = answer.status, retry_after = ?asked, "answer");
        if answer.status == 429 {
            crate::telemetry::throttled();
            // The device is silent for the Retry-After, and for at least a second whatever it
            // says; the retry waits as long.
            let silence = crate::pace::at_least_a_second(asked.unwrap_or_default());
            pacing.silence(silence).await;
            return Ok(Outcome::Retry(PassError::Throttled, asked.map(|_| silence)));
        }
        if answer.status >= 500 {
            return Ok(Outcome::Retry(answer.into_error(), asked));
        }
        if answer.status >= 400
            && answer
                .enhanced()
                .is_some_and(|e| e.action() == ErrorAction::Retry)
        {
            return Ok(Outcome::Retry(answer.into_error(), None));
        }
        Ok(Outcome::Done(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::retry_after;
    use std::time::Duration;

    /// 2024-02-29 23:59:59 UTC.
    const NOW: Duration = Duration::from_secs(1_709_251_199);

    #[test]
    fn retry_after_reads_seconds_and_dates_and_caps_them() {
        assert_eq!(retry_after("3", NOW), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 0 ", NOW), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Fri, 01 Mar 2024 00:00:04 GMT", NOW),
            Some(Duration::from_secs(5))
        );
        // A date past or now: no wait.
        assert_eq!(
            retry_after("Thu, 29 Feb 2024 23:59:00 GMT", NOW),
            Some(Duration::ZERO)
        );
        // Huge values wait the cap, never longer.
        assert_eq!(retry_after("86400", NOW), Some(Duration::from_secs(30)));
        assert_eq!(
            retry_after("99999999999999999999999999", NOW),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Fri, 31 Dec 9999 23:59:59 GMT", NOW),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn retry_after_ignores_what_it_cannot_read() {
        for v in [
            "",
            "soon",
            "-1",
            "1.5",
            "+3",
            "3 s",
            "Friday, 01-Mar-24 00:00:04 GMT",
            "Fri Mar  1 00:00:04 2024",
        ] {
            assert_eq!(retry_after(v, NOW), None, "{v:?}");
        }
    }
}
