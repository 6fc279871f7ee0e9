//! The request pipeline in front of every endpoint: body limit, request log, throttling and
//! fault injection.

use crate::errors::html_response;
use crate::exchanges;
use crate::faults;
use crate::state::{LoggedRequest, Shared};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;

/// Admin paths: never logged, throttled or faulted.
pub const ADMIN_PREFIX: &str = "/__emulator";

fn throttled_path(path: &str) -> bool {
    path.starts_with("/o/client/") || path.starts_with("/api/v2/")
}

/// Runs one request through the pipeline.
pub async fn pipeline(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with(ADMIN_PREFIX) {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, shared.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return html_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "<html><body>413 Request Entity Too Large</body></html>".into(),
            )
        }
    };
    let now = shared.clock.now_ms();
    let entry = LoggedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        time_ms: now,
        status: 0,
    };
    if throttled_path(&path) {
        let device = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .or_else(|| peer.map(|a| a.ip().to_string()))
            .unwrap_or_default();
        if !shared.throttle().admit(&device, now) {
            let resp = faults::replacement(&faults::Fault::Throttle).expect("throttle answer");
            return finish(&shared, entry, None, resp).await;
        }
    }
    let fault = faults::take(&mut shared.faults(), parts.method.as_str(), &path);
    let request = Request::from_parts(parts, Body::from(bytes));
    let response = match &fault {
        None => next.run(request).await,
        Some(f) => match faults::replacement(f) {
            Some(r) => r,
            None => {
                faults::delay(f).await;
                let r = next.run(request).await;
                faults::alter(f, r).await
            }
        },
    };
    finish(&shared, entry, fault.as_ref(), response).await
}

/// Logs the exchange, and records it for the contract tests when asked to (see `exchanges`).
async fn finish(
    shared: &Shared,
    mut entry: LoggedRequest,
    fault: Option<&faults::Fault>,
    response: Response,
) -> Response {
    entry.status = response.status().as_u16();
    // The service's time is the emulator's clock, advanced or set off as a test asks.
    let mut response = response;
    let date = shared.clock.http_date();
    if let Ok(v) = axum::http::HeaderValue::from_str(&date) {
        response.headers_mut().insert(axum::http::header::DATE, v);
    }
    let response = match exchanges::recorder() {
        Some(recorder) => recorder.record(&entry, fault, response).await,
        None => response,
    };
    shared.record(entry);
    response
}

/// Whether `origin` is a page on this machine (`http://127.0.0.1:*`, `http://localhost:*`,
/// `http://[::1]:*`).
fn loopback_origin(origin: &str) -> bool {
    url::Url::parse(origin).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && matches!(
                u.host_str(),
                Some("127.0.0.1") | Some("localhost") | Some("[::1]")
            )
    })
}

/// CORS for loopback origins when `cors_loopback` is on: preflights are answered here (they are
/// neither logged nor throttled), and every answer to such an origin allows it to read it.
pub async fn cors(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    use axum::http::{header, HeaderValue, Method};
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .filter(|_| shared.config.cors_loopback)
        .filter(|o| o.to_str().is_ok_and(loopback_origin))
        .cloned();
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS;
    let asked = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    let mut response = if preflight {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        r
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("origin"));
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
        );
        if let Some(asked) = asked {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
        }
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    } else {
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("*"),
        );
    }
    response
}
