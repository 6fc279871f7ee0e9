//! Faults the emulator injects on request: error statuses, throttling, delays, dropped
//! connections and broken bodies.

use crate::errors::{enhanced, html_response, json_response, JSON_CONTENT_TYPE};
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One kind of fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this status (500 carries an enhanced error body, others a short HTML body).
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// Answer 429 with a text/html body and no Retry-After, as the throttle does.
    Throttle,
    /// Answer with this status (default 429) and a short text/html body, with a `Retry-After`
    /// header of this value as it is (delta-seconds, an HTTP date, or anything a client must
    /// survive). The service's throttle sends none; this is for clients' handling of it.
    RetryAfter {
        /// The HTTP status.
        #[serde(default = "too_many")]
        status: u16,
        /// The `Retry-After` value.
        value: String,
    },
    /// Wait this long, then answer normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Close the connection without a complete answer.
    Drop,
    /// Answer normally but cut the body in half.
    Truncate,
    /// Answer 200 with a JSON content type and a body that is not JSON.
    InvalidJson,
    /// Answer 200 with a JSON body of this many bytes.
    Oversized {
        /// Body size in bytes.
        bytes: usize,
    },
    /// Answer with an HTML body.
    Html {
        /// The HTTP status.
        #[serde(default = "ok")]
        status: u16,
    },
    /// Answer with an XML body.
    Xml {
        /// The HTTP status.
        #[serde(default = "ok")]
        status: u16,
    },
    /// Answer normally but with a `text/plain` content type.
    WrongContentType,
    /// Answer with this status, a JSON content type and this body, in place of the normal
    /// answer: a value the SDK must read with care (an `expires_in` past any clock, an
    /// unprintable token).
    Json {
        /// The HTTP status.
        #[serde(default = "ok")]
        status: u16,
        /// The body.
        body: String,
    },
    /// Answer with this enhanced error as the whole body, at the status its code carries
    /// (`authenticated_profile_missing`: 403): the top-level form, where the service puts a
    /// decision's error inside its item.
    TopLevelError {
        /// The enhanced error code.
        #[serde(default = "profile_missing")]
        code: String,
    },
}

fn profile_missing() -> String {
    "authenticated_profile_missing".into()
}

fn ok() -> u16 {
    200
}

fn too_many() -> u16 {
    429
}

/// A fault armed for the next `remaining` requests whose path starts with `path`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultRule {
    /// Path prefix, e.g. `/api/v2/REF30/decisions/authorize`.
    pub path: String,
    /// Only requests with this method, if set.
    #[serde(default)]
    pub method: Option<String>,
    /// What to do.
    pub fault: Fault,
    /// How many requests it still applies to.
    #[serde(default = "one")]
    pub remaining: u32,
}

fn one() -> u32 {
    1
}

/// Takes the first armed rule matching the request, counting it down.
pub fn take(rules: &mut Vec<FaultRule>, method: &str, path: &str) -> Option<Fault> {
    let i = rules.iter().position(|r| {
        r.remaining > 0
            && path.starts_with(&r.path)
            && r.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    })?;
    let fault = rules[i].fault.clone();
    rules[i].remaining -= 1;
    if rules[i].remaining == 0 {
        rules.remove(i);
    }
    Some(fault)
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The answer for a fault that replaces the handler entirely; `None` for faults that need the
/// real answer (delay, truncate, wrong content type).
pub fn replacement(fault: &Fault) -> Option<Response> {
    Some(match fault {
        Fault::Status { status: 500 } => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &enhanced("internal_server_error", None),
        ),
        Fault::Status { status: s } => html_response(
            status(*s),
            format!("<html><body><h1>{s}</h1></body></html>"),
        ),
        Fault::Throttle => html_response(
            StatusCode::TOO_MANY_REQUESTS,
            "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1></center></body></html>".into(),
        ),
        Fault::RetryAfter { status: s, value } => {
            let mut r = html_response(
                status(*s),
                format!("<html><body><h1>{s}</h1></body></html>"),
            );
            // A value that is no header text goes out as nothing rather than as a panic.
            if let Ok(v) = HeaderValue::from_str(value) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Fault::Drop => {
            let stream = futures_util::stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection dropped by fault injection",
                ))
            });
            Response::new(Body::from_stream(stream))
        }
        Fault::InvalidJson => {
            let mut r = Response::new(Body::from("{\"decisions\": [ this is not json"));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(JSON_CONTENT_TYPE),
            );
            r
        }
        Fault::Json { status: s, body } => {
            let mut r = Response::new(Body::from(body.clone()));
            *r.status_mut() = status(*s);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(JSON_CONTENT_TYPE),
            );
            r
        }
        Fault::Oversized { bytes } => {
            let pad = bytes.saturating_sub(10);
            let body = format!("{{\"pad\":\"{}\"}}", "a".repeat(pad));
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(JSON_CONTENT_TYPE),
            );
            r
        }
        Fault::Html { status: s } => html_response(
            status(*s),
            "<!DOCTYPE html><html><body><p>Service temporarily unavailable</p></body></html>".into(),
        ),
        Fault::Xml { status: s } => {
            let mut r = Response::new(Body::from(
                "<?xml version=\"1.0\"?><error><status>500</status><code>internal_error</code></error>",
            ));
            *r.status_mut() = status(*s);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            r
        }
        Fault::TopLevelError { code } => crate::errors::error_response(code),
        Fault::Delay { .. } | Fault::Truncate | Fault::WrongContentType => return None,
    })
}

/// Waits for a delay fault.
pub async fn delay(fault: &Fault) {
    if let Fault::Delay { ms } = fault {
        tokio::time::sleep(Duration::from_millis(*ms)).await;
    }
}

/// Alters a real answer for the faults that need one.
pub async fn alter(fault: &Fault, response: Response) -> Response {
    match fault {
        Fault::Truncate => {
            let (mut parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(cut))
        }
        Fault::WrongContentType => {
            let (mut parts, body) = response.into_parts();
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Response::from_parts(parts, body)
        }
        _ => response,
    }
}
