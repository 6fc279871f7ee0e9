//! The host's HTTP stack and logger behind the Rust pipeline: a foreign `HttpTransport` (async:
//! Swift on `URLSession`) or `BlockingHttpTransport` (blocking, called on the SDK's blocking
//! threads: Kotlin on `HttpURLConnection`), and a foreign `Logger` (os_log, Logcat).
//! The pipeline (pacing, retries, deadlines, the response cap, error decoding) stays in Rust;
//! the host only moves bytes.

use super::core;
use std::sync::{Arc, RwLock};

/// One header. Its value never prints (`Authorization`, device headers).
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpHeader {
    /// The name, lower case.
    pub name: String,
    /// The value (Kotlin: `Redacted`).
    pub value: super::config::SecretText,
}

/// A request for the host to send. An object, not a record: its generated `toString` /
/// `description` shows no header (`Authorization` and device headers are secrets).
#[derive(uniffi::Object)]
pub struct HttpRequest {
    inner: core::HttpRequest,
    cancel: std::sync::Mutex<CancelState>,
}

/// Whether the SDK abandoned the request, and the host's hook to stop it.
#[derive(Default)]
struct CancelState {
    cancelled: bool,
    hook: Option<Arc<dyn CancelHook>>,
}

/// Stops a request in flight (a blocking host transport registers one per request).
#[uniffi::export(with_foreign)]
pub trait CancelHook: Send + Sync {
    /// The SDK abandoned the request (its call was cancelled): stop it now.
    fn cancel(&self);
}

impl HttpRequest {
    pub(super) fn new(inner: core::HttpRequest) -> Self {
        Self {
            inner,
            cancel: std::sync::Mutex::new(CancelState::default()),
        }
    }

    /// Marks the request abandoned and calls the host's hook, if any.
    fn abandon(&self) {
        let hook = {
            let mut s = self.cancel.lock().unwrap_or_else(|e| e.into_inner());
            s.cancelled = true;
            s.hook.take()
        };
        if let Some(h) = hook {
            h.cancel();
        }
    }
}

#[uniffi::export]
impl HttpRequest {
    /// Registers how to stop the request if the SDK abandons it (a blocking transport should,
    /// before it starts sending). Called at once when the request is already abandoned.
    pub fn on_cancel(&self, hook: Arc<dyn CancelHook>) {
        let already = {
            let mut s = self.cancel.lock().unwrap_or_else(|e| e.into_inner());
            if s.cancelled {
                true
            } else {
                s.hook = Some(hook.clone());
                false
            }
        };
        if already {
            hook.cancel();
        }
    }

    /// Whether the SDK abandoned the request.
    pub fn is_cancelled(&self) -> bool {
        self.cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cancelled
    }

    /// `GET`, `POST`, `DELETE`, ...
    pub fn method(&self) -> String {
        self.inner.method.as_str().to_string()
    }

    /// The absolute URL.
    pub fn url(&self) -> String {
        self.inner.url.as_str().to_string()
    }

    /// Every header to send, `Content-Type` included when there is a body. Never log them.
    pub fn headers(&self) -> Vec<HttpHeader> {
        self.inner
            .headers
            .iter()
            .filter_map(|(k, v)| {
                Some(HttpHeader {
                    name: k.as_str().to_string(),
                    value: v.to_str().ok()?.to_string().into(),
                })
            })
            .collect()
    }

    /// The body, if any.
    pub fn body(&self) -> Option<Vec<u8>> {
        self.inner.body.as_ref().map(|b| b.to_vec())
    }

    /// The longest the whole exchange may take, in milliseconds.
    pub fn timeout_ms(&self) -> u64 {
        self.inner.timeout.as_millis() as u64
    }

    /// Stop reading past this many body bytes and throw `TooLarge`.
    pub fn max_response_bytes(&self) -> u64 {
        self.inner.max_response_bytes as u64
    }
}

/// Everything of a request in one call (one crossing of the FFI). The headers travel as bytes,
/// `name: value` lines separated by CRLF, so that the record's generated `toString` /
/// `description` never shows a header value.
#[derive(uniffi::Record)]
pub struct HttpRequestParts {
    /// `GET`, `POST`, `DELETE`, ...
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// `name: value` lines separated by CRLF (UTF-8).
    pub header_block: Vec<u8>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// The longest the whole exchange may take, in milliseconds.
    pub timeout_ms: u64,
    /// Stop reading past this many body bytes.
    pub max_response_bytes: u64,
}

impl std::fmt::Debug for HttpRequestParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequestParts")
            .field("method", &self.method)
            .field("header_bytes", &self.header_block.len())
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl HttpRequest {
    /// Method, URL, headers, body, timeout and cap in one call: what a host transport needs.
    pub fn parts(&self) -> HttpRequestParts {
        let mut header_block = Vec::with_capacity(512);
        for (k, v) in &self.inner.headers {
            header_block.extend_from_slice(k.as_str().as_bytes());
            header_block.extend_from_slice(b": ");
            header_block.extend_from_slice(v.as_bytes());
            header_block.extend_from_slice(b"\r\n");
        }
        HttpRequestParts {
            method: self.method(),
            url: self.url(),
            header_block,
            body: self.body(),
            timeout_ms: self.timeout_ms(),
            max_response_bytes: self.max_response_bytes(),
        }
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.inner.method)
            .field("path", &self.inner.url.path())
            .finish_non_exhaustive()
    }
}

/// The host's answer. Its Rust `Debug` form shows the status and the headers' names only.
#[derive(Clone, uniffi::Record)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Vec<HttpHeader>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|h| h.name.as_str()).collect();
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// Why the host got no answer.
#[derive(Debug, Clone, thiserror::Error, uniffi::Error)]
pub enum HttpError {
    /// No connection (refused, reset, DNS, TLS), or it broke before a complete answer.
    #[error("connection failed: {reason}")]
    Connect {
        /// What happened (no URL query, no header value).
        reason: String,
    },
    /// No complete answer in time.
    #[error("timed out")]
    Timeout,
    /// The body is larger than `maxResponseBytes`.
    #[error("answer too large")]
    TooLarge,
    /// Anything else.
    #[error("{reason}")]
    Other {
        /// What happened.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HttpError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HttpError::Other { reason: e.reason }
    }
}

/// The app's HTTP stack: sends one request, reads its whole answer, follows no redirect, and
/// abandons the request when its task or coroutine is cancelled.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends the request.
    async fn send(&self, request: Arc<HttpRequest>) -> Result<HttpResponse, HttpError>;
}

/// The app's HTTP stack, blocking (`HttpURLConnection`): called on one of the SDK's blocking
/// threads, never the app's. When the SDK abandons a request (its call was cancelled), the hook
/// given to `HttpRequest.onCancel` is called: stop the request there.
#[uniffi::export(with_foreign)]
pub trait BlockingHttpTransport: Send + Sync {
    /// Sends the request and waits for the whole answer.
    fn send(&self, request: Arc<HttpRequest>) -> Result<HttpResponse, HttpError>;
}

struct Blocking(Arc<dyn BlockingHttpTransport>);

/// Abandons the request when the call's future is dropped before the answer.
struct AbandonOnDrop(Option<Arc<HttpRequest>>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            r.abandon();
        }
    }
}

impl core::HttpTransport for Blocking {
    fn send(&self, request: core::HttpRequest) -> core::http::SendFuture<'_> {
        let host = self.0.clone();
        let request = Arc::new(HttpRequest::new(request));
        Box::pin(async move {
            let mut guard = AbandonOnDrop(Some(request.clone()));
            let r = tokio::task::spawn_blocking(move || host.send(request)).await;
            guard.0 = None; // answered: nothing to abandon
            let r = r.map_err(|e| core::TransportError::Other(e.to_string()))?;
            lift(r)
        })
    }
}

/// The pipeline's transport for a blocking host transport.
pub fn blocking_transport(host: Arc<dyn BlockingHttpTransport>) -> Arc<dyn core::HttpTransport> {
    Arc::new(Blocking(host))
}

/// The host's answer as the pipeline's (which also holds it to the size cap).
fn lift(r: Result<HttpResponse, HttpError>) -> Result<core::HttpResponse, core::TransportError> {
    match r {
        Ok(r) => {
            let mut headers = core::http::HeaderMap::with_capacity(r.headers.len());
            for h in r.headers {
                if let (Ok(k), Ok(v)) = (
                    core::http::HeaderName::from_bytes(h.name.as_bytes()),
                    core::http::HeaderValue::from_str(&h.value.0),
                ) {
                    headers.append(k, v);
                }
            }
            Ok(core::HttpResponse {
                status: r.status,
                headers,
                body: r.body,
            })
        }
        Err(HttpError::Connect { reason }) => Err(core::TransportError::Connect(reason)),
        Err(HttpError::Timeout) => Err(core::TransportError::Timeout),
        Err(HttpError::TooLarge) => Err(core::TransportError::TooLarge),
        Err(HttpError::Other { reason }) => Err(core::TransportError::Other(reason)),
    }
}

/// The host's transport as the pipeline's.
struct Foreign(Arc<dyn HttpTransport>);

impl core::HttpTransport for Foreign {
    fn send(&self, request: core::HttpRequest) -> core::http::SendFuture<'_> {
        let host = self.0.clone();
        let request = Arc::new(HttpRequest::new(request));
        Box::pin(async move { lift(host.send(request).await) })
    }
}

/// The pipeline's transport for a host transport (also for Rust tests of the FFI path).
pub fn foreign_transport(host: Arc<dyn HttpTransport>) -> Arc<dyn core::HttpTransport> {
    Arc::new(Foreign(host))
}

/// A log line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Failures.
    Error,
    /// Unexpected but handled.
    Warn,
    /// Milestones (registration, token refresh).
    Info,
    /// Each request and answer status.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn of(level: &tracing::Level) -> Self {
        match *level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// The app's logger (os_log, Logcat). The SDK never logs a secret: no token, media token,
/// client secret, device id or user identifier reaches it.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One line.
    fn log(&self, level: LogLevel, target: String, message: String);
}

static LOGGER: RwLock<Option<(Arc<dyn Logger>, LogLevel)>> = RwLock::new(None);
static INSTALL: std::sync::Once = std::sync::Once::new();

/// Sends the SDK's log lines at `level` and above to `logger` (`null`/`nil` stops them). The
/// first call installs the forwarding as the process's log subscriber, unless the app set one.
#[uniffi::export]
pub fn set_logger(logger: Option<Arc<dyn Logger>>, level: LogLevel) {
    *LOGGER.write().unwrap_or_else(|e| e.into_inner()) = logger.map(|l| (l, level));
    INSTALL.call_once(|| {
        let _ = tracing::dispatcher::set_global_default(tracing::Dispatch::new(Forward {
            next_span: std::sync::atomic::AtomicU64::new(1),
        }));
    });
    tracing::callsite::rebuild_interest_cache();
}

/// A `tracing` subscriber that formats events as one line each for the foreign logger.
struct Forward {
    next_span: std::sync::atomic::AtomicU64,
}

fn current_level() -> Option<LogLevel> {
    LOGGER
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|(_, l)| *l)
}

struct Line(String);

impl tracing::field::Visit for Line {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl tracing::Subscriber for Forward {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        current_level().is_some_and(|l| LogLevel::of(metadata.level()) <= l)
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let n = self
            .next_span
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::span::Id::from_u64(n)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let logger = LOGGER
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(l, _)| l.clone());
        if let Some(logger) = logger {
            let mut line = Line(String::new());
            event.record(&mut line);
            let meta = event.metadata();
            logger.log(
                LogLevel::of(meta.level()),
                meta.target().to_string(),
                line.0,
            );
        }
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}
