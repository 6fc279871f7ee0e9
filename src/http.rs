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

/// One HTTP request, complete.
#[derive(Debug, Clone)]
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

/// One complete HTTP answer.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
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
pub use self::reqwest_transport::ReqwestTransport;

#[cfg(feature = "reqwest-transport")]
mod reqwest_transport {
    use super::*;

    /// The built-in transport: reqwest with rustls, connection pooling, no redirects.
    #[derive(Debug, Clone)]
    pub struct ReqwestTransport {
        client: reqwest::Client,
    }

    impl ReqwestTransport {
        /// A transport with its own connection pool.
        pub fn new() -> Result<Self, crate::error::PassError> {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(Duration::from_secs(90))
                .build()
                .map_err(|e| crate::error::PassError::config("http", e.to_string()))?;
            Ok(Self { client })
        }

        async fn exchange(&self, r: HttpRequest) -> Result<HttpResponse, TransportError> {
            let mut rb = self
                .client
                .request(r.method, r.url)
                .timeout(r.timeout)
                .headers(r.headers);
            if let Some(body) = r.body {
                rb = rb.body(body);
            }
            let mut resp = rb.send().await.map_err(error)?;
            let status = resp.status().as_u16();
            if resp
                .content_length()
                .is_some_and(|n| n > r.max_response_bytes as u64)
            {
                return Err(TransportError::TooLarge);
            }
            let headers = std::mem::take(resp.headers_mut());
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(error)? {
                if body.len() + chunk.len() > r.max_response_bytes {
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
