//! The HTTP transport: the one place that sends bytes. Everything else of the request pipeline
//! (pacing, retries, deadlines, the response cap, error decoding, sensitive headers) stays in the
//! SDK's request pipeline and is the same whatever sends the request.
//!
//! Rust users get [`ReqwestTransport`] (feature `reqwest-transport`, on by default). Apps give
//! their own with [`crate::PassClientBuilder::http_transport`]: the Swift package ships one on
//! `URLSession`, the Kotlin library one on `HttpURLConnection`, so that the platform's proxy,
//! VPN, pinning and network policy apply.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// One HTTP request, complete. Its `Debug` form shows the method, the URL without credentials
/// or query values, every header's name but only the values of `Accept`, `Content-Length`,
/// `Content-Type` and `User-Agent` (others show as `***`), and the body's length: a request can
/// carry the client secret, tokens, device identifiers and the user's IP.
#[derive(Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: url::Url,
    /// Every header to send (values of `Authorization`, `AP-Device-Identifier` and the single
    /// sign-on headers are marked sensitive: `Debug` does not show them).
    pub headers: HeaderMap,
    /// The body, if any (its `Content-Type` is among the headers).
    pub body: Option<bytes::Bytes>,
    /// The longest the whole exchange may take.
    pub timeout: Duration,
    /// The largest body to read: a transport should stop reading beyond it and answer
    /// [`TransportError::TooLarge`] (the pipeline checks again).
    pub max_response_bytes: usize,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &RedactedUrl(&self.url))
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body_bytes", &self.body.as_ref().map(|b| b.len()))
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// The headers whose values `Debug` forms show (unless marked sensitive); every other value
/// shows as `***`.
pub(crate) const SHOWN_HEADERS: [&str; 4] =
    ["accept", "content-length", "content-type", "user-agent"];

/// A URL as `Debug` shows it: scheme, host, port and path, and each query parameter's name
/// with `***` for its value (queries carry device ids and identity keys); no user or password.
pub(crate) struct RedactedUrl<'a>(pub &'a url::Url);

impl std::fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let u = self.0;
        let mut text = format!(
            "{}://{}",
            u.scheme(),
            &u[url::Position::BeforeHost..url::Position::AfterPath]
        );
        let mut sep = '?';
        for (name, _) in u.query_pairs() {
            text.push(sep);
            text.push_str(&name);
            text.push_str("=***");
            sep = '&';
        }
        f.write_str(&text)
    }
}

/// Headers as `Debug` shows them: every name, the values of [`SHOWN_HEADERS`] only.
pub(crate) struct RedactedHeaders<'a>(pub &'a HeaderMap);

impl std::fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, value)| {
                let shown = SHOWN_HEADERS.contains(&name.as_str()) && !value.is_sensitive();
                let value = match value.to_str() {
                    Ok(v) if shown => v,
                    _ => "***",
                };
                (name.as_str(), value)
            }))
            .finish()
    }
}

/// One complete HTTP answer. Its `Debug` form shows the status, the headers as
/// [`HttpRequest`]'s does, and the body's length (a token answer holds the access token, a
/// decision media tokens).
#[derive(Clone, Default)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// Why a request got no answer. Connection failures and timeouts are retried by the pipeline
/// within its limits; descriptions must not contain the URL's query or any header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection (refused, reset, DNS, TLS), or it broke before a complete answer.
    #[error("connection failed: {0}")]
    Connect(String),
    /// No complete answer in time.
    #[error("timed out")]
    Timeout,
    /// The answer is larger than the request's `max_response_bytes`.
    #[error("answer larger than the limit")]
    TooLarge,
    /// Anything else.
    #[error("transport error: {0}")]
    Other(String),
}

/// The future of [`HttpTransport::send`].
pub type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

/// Sends one HTTP request and reads its whole answer. No retries, no redirects followed: the
/// pipeline decides. Dropping the future must abandon the request.
pub trait HttpTransport: Send + Sync {
    /// Sends `request`.
    fn send(&self, request: HttpRequest) -> SendFuture<'_>;

    /// Whether `send` itself ends every exchange within the request's `timeout` (default
    /// `false`: the pipeline then bounds it with a timer of its own).
    fn enforces_timeout(&self) -> bool {
        false
    }
}

/// The transport of a client built without one: reqwest with rustls when the feature
/// `reqwest-transport` is on, otherwise an error naming the missing setting.
pub(crate) fn default_transport(
) -> Result<std::sync::Arc<dyn HttpTransport>, crate::error::PassError> {
    #[cfg(feature = "reqwest-transport")]
    {
        Ok(std::sync::Arc::new(ReqwestTransport::new()?))
    }
    #[cfg(not(feature = "reqwest-transport"))]
    {
        Err(crate::error::PassError::config(
            "http_transport",
            "required: this build has no built-in HTTP transport",
        ))
    }
}

#[cfg(feature = "reqwest-transport")]
pub use self::reqwest_transport::{ReqwestTransport, ReqwestTransportBuilder};

#[cfg(feature = "reqwest-transport")]
mod reqwest_transport {
    use super::*;

    /// The built-in transport: reqwest with rustls, connection pooling, no redirects.
    ///
    /// Connections live at most [`DEFAULT_CONNECTION_MAX_AGE`](Self::DEFAULT_CONNECTION_MAX_AGE)
    /// (30 s): then the next request opens a fresh pool, resolving the host again, so that a
    /// service that moves traffic away from a data center through DNS is followed within that
    /// time (the Server-to-Server cookbook allows at most 30 s of DNS caching). Requests in
    /// flight finish on their connection.
    #[derive(Clone)]
    pub struct ReqwestTransport {
        inner: std::sync::Arc<Pool>,
    }

    struct Pool {
        current: std::sync::RwLock<(crate::time::Instant, reqwest::Client)>,
        max_age: Duration,
        resolver: Option<std::sync::Arc<dyn reqwest::dns::Resolve>>,
    }

    impl std::fmt::Debug for ReqwestTransport {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ReqwestTransport")
                .field("connection_max_age", &self.inner.max_age)
                .finish_non_exhaustive()
        }
    }

    /// Settings of a [`ReqwestTransport`].
    #[derive(Clone)]
    pub struct ReqwestTransportBuilder {
        max_age: Duration,
        resolver: Option<std::sync::Arc<dyn reqwest::dns::Resolve>>,
    }

    impl std::fmt::Debug for ReqwestTransportBuilder {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ReqwestTransportBuilder")
                .field("connection_max_age", &self.max_age)
                .finish_non_exhaustive()
        }
    }

    impl ReqwestTransportBuilder {
        /// How long a connection pool (and so a DNS answer) is used, 1 s to 30 s (default 30 s).
        pub fn connection_max_age(mut self, age: Duration) -> Self {
            self.max_age = age;
            self
        }

        /// The resolver of host names (default: the system's).
        pub fn dns_resolver(mut self, resolver: std::sync::Arc<dyn reqwest::dns::Resolve>) -> Self {
            self.resolver = Some(resolver);
            self
        }

        /// Checks the settings and builds the transport.
        pub fn build(self) -> Result<ReqwestTransport, crate::error::PassError> {
            if self.max_age < Duration::from_secs(1)
                || self.max_age > ReqwestTransport::DEFAULT_CONNECTION_MAX_AGE
            {
                return Err(crate::error::PassError::config(
                    "connection_max_age",
                    "must be 1 s to 30 s",
                ));
            }
            let client = pool(self.max_age, self.resolver.clone())?;
            Ok(ReqwestTransport {
                inner: std::sync::Arc::new(Pool {
                    current: std::sync::RwLock::new((crate::time::Instant::now(), client)),
                    max_age: self.max_age,
                    resolver: self.resolver,
                }),
            })
        }
    }

    fn pool(
        max_age: Duration,
        resolver: Option<std::sync::Arc<dyn reqwest::dns::Resolve>>,
    ) -> Result<reqwest::Client, crate::error::PassError> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(max_age);
        if let Some(r) = resolver {
            b = b.dns_resolver(std::sync::Arc::new(SharedResolver(r)));
        }
        b.build()
            .map_err(|e| crate::error::PassError::config("http", e.to_string()))
    }

    /// The app's resolver, shared by every pool the transport opens.
    struct SharedResolver(std::sync::Arc<dyn reqwest::dns::Resolve>);

    impl reqwest::dns::Resolve for SharedResolver {
        fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            self.0.resolve(name)
        }
    }

    impl ReqwestTransport {
        /// The longest a connection pool is used: 30 s.
        pub const DEFAULT_CONNECTION_MAX_AGE: Duration = Duration::from_secs(30);

        /// A transport with its own connection pool and the defaults.
        pub fn new() -> Result<Self, crate::error::PassError> {
            Self::builder().build()
        }

        /// A builder with the defaults.
        pub fn builder() -> ReqwestTransportBuilder {
            ReqwestTransportBuilder {
                max_age: Self::DEFAULT_CONNECTION_MAX_AGE,
                resolver: None,
            }
        }

        /// The current pool, or a fresh one when it has reached its age.
        fn client(&self) -> Result<reqwest::Client, TransportError> {
            let p = &self.inner;
            {
                let current = p.current.read().unwrap_or_else(|e| e.into_inner());
                if current.0.elapsed() < p.max_age {
                    return Ok(current.1.clone());
                }
            }
            let mut current = p.current.write().unwrap_or_else(|e| e.into_inner());
            if current.0.elapsed() >= p.max_age {
                let fresh = pool(p.max_age, p.resolver.clone())
                    .map_err(|e| TransportError::Other(e.to_string()))?;
                *current = (crate::time::Instant::now(), fresh);
            }
            Ok(current.1.clone())
        }

        /// The reqwest request, made outside the exchange's future (which then holds only what
        /// crosses an await).
        fn prepare(
            &self,
            r: HttpRequest,
        ) -> Result<(reqwest::Client, reqwest::Request, usize), TransportError> {
            let mut request = reqwest::Request::new(r.method, r.url);
            *request.headers_mut() = r.headers;
            *request.timeout_mut() = Some(r.timeout);
            if let Some(body) = r.body {
                *request.body_mut() = Some(body.into());
            }
            Ok((self.client()?, request, r.max_response_bytes))
        }

        async fn exchange(&self, r: HttpRequest) -> Result<HttpResponse, TransportError> {
            let (client, request, max) = self.prepare(r)?;
            let mut resp = client.execute(request).await.map_err(error)?;
            let status = resp.status().as_u16();
            let length = resp.content_length();
            if length.is_some_and(|n| n > max as u64) {
                return Err(TransportError::TooLarge);
            }
            let headers = std::mem::take(resp.headers_mut());
            let mut body = Vec::with_capacity(length.unwrap_or(0) as usize);
            while let Some(chunk) = resp.chunk().await.map_err(error)? {
                if body.len() + chunk.len() > max {
                    return Err(TransportError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        }
    }

    impl HttpTransport for ReqwestTransport {
        fn send(&self, request: HttpRequest) -> SendFuture<'_> {
            Box::pin(self.exchange(request))
        }

        /// reqwest ends the exchange at the request's timeout.
        fn enforces_timeout(&self) -> bool {
            true
        }
    }

    /// The error without the URL (its query may carry identifiers).
    fn error(e: reqwest::Error) -> TransportError {
        if e.is_timeout() {
            return TransportError::Timeout;
        }
        let kind = if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_decode() {
            "the answer broke off"
        } else if e.is_request() {
            "the request could not be sent"
        } else {
            "transport error"
        };
        let mut source = std::error::Error::source(&e);
        let mut detail = String::new();
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        let text = if detail.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}: {detail}")
        };
        if e.is_connect() || e.is_body() || e.is_decode() || e.is_request() {
            TransportError::Connect(text)
        } else {
            TransportError::Other(text)
        }
    }
}
