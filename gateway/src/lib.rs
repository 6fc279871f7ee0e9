//! A programmer's service for streaming devices that cannot call Adobe Pass themselves (a Roku
//! channel, a web TV app): each device enrols once, then calls this gateway with its token,
//! and the gateway calls the REST API V2 on that device's behalf with one `PassService`,
//! forwarding the device's address (as the socket or a trusted proxy reports it), connection
//! and device information.
//!
//! `GATEWAY_EMULATOR=1 GATEWAY_DEVICE_KEY=$(openssl rand -base64 32) cargo run -p
//! tvpass-gateway` serves on `127.0.0.1:8088` against the in-process emulator; [`Settings`]
//! lists what the environment sets. Operators get `GET /metrics` (Prometheus text) and
//! `GET /healthz` on a listener of their own (`GATEWAY_ADMIN_ADDR`, loopback by default).
//!
//! The device's API (every call but enrolment carries `Authorization: Bearer <token>`, and may
//! carry `X-Device-Info`):
//!
//! | call | body / query | answer |
//! |---|---|---|
//! | `POST /v1/devices` | empty or `{}` | `201 {"deviceId", "token"}` |
//! | `POST /v1/sessions` | `{"mvpd": "..."}` | `{"code", "url"}` to show, or `{"authenticated": true}` |
//! | `GET /v1/profiles?code=...` | | `200 {"mvpd", "notAfter"}` once logged in, `202` before |
//! | `POST /v1/preauthorize` | `{"mvpd", "resources": [...]}` | `[{"resource", "permit"}]` |
//! | `POST /v1/authorize` | `{"mvpd", "resource"}` | `{"permit": true, "mediaToken"}` or `{"permit": false, "reason", "message", "details"}` |
//! | `POST /v1/logout` | `{"mvpd"}` | `{"done": true}` or `{"openUrl"}` |
//!
//! A failure is `{"error": code}` with a status, the code one of: `unauthenticated` (401),
//! `bad_request` (400), `too_many_resources` (400), `unknown_code` (404), `not_found` (404),
//! `method_not_allowed` (405), `timeout` (408: the device call took longer than the gateway
//! allows; 504: Adobe Pass did not answer in time), `too_large` (413), `headers_too_large`
//! (431), `throttled` (429), `upstream` (502), `unavailable` (503 with `Retry-After`, while the
//! service fails fast), `busy` (503 with `Retry-After`: too many calls in flight). What failed
//! is logged, never sent to the device. A Deny is not a failure: its `reason` is the service's
//! own code (`authorization_denied_by_mvpd`, ...), with the `message` and `details` Adobe Pass
//! writes for the user.

pub mod auth;
pub mod codes;
pub mod proxy;
mod server;
pub mod settings;

pub use auth::{DeviceAuthenticator, Enrolment, GatewayTokens};
pub use codes::Codes;
pub use proxy::{Origin, TrustedProxies};
pub use settings::{Limits, Settings};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tvpass::{
    Decision, DeviceContext, DeviceInfo, LogoutAction, PassClient, PassError, PassService,
};

/// The largest body of a device request (the largest, a preauthorize list, is far smaller).
pub const MAX_BODY: usize = 16 * 1024;
/// The most bytes of headers of a device request (`X-Device-Info` itself is at most 8 KiB
/// encoded, which [`tvpass::MAX_DEVICE_INFO`] checks again).
pub const MAX_HEADERS: usize = 16 * 1024;
/// How long a session's code stays bound to its device when Adobe Pass gives no expiry.
const CODE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The gateway: the one service, who may call, where devices' addresses come from, and its
/// limits.
#[derive(Clone)]
pub struct Gateway {
    /// The service every device call goes through.
    pub service: PassService,
    /// Proves which device calls (the gateway's own tokens by default).
    pub authenticator: Arc<dyn DeviceAuthenticator>,
    /// The proxies in front whose `X-Forwarded-For` and `Forwarded` count.
    pub trusted_proxies: TrustedProxies,
    /// Which device started each session.
    pub codes: Arc<Codes>,
    /// What `/metrics` renders (none: `/metrics` answers 404).
    pub metrics: Option<PrometheusHandle>,
    /// What a caller can hold.
    pub limits: Limits,
    /// Settings that make this gateway insecure or not real, named on every health answer.
    pub warnings: Vec<&'static str>,
}

impl Gateway {
    /// A gateway for `service` whose devices prove themselves to `authenticator`, with no proxy
    /// in front, the codes in memory, no metrics and the default limits.
    pub fn new(service: PassService, authenticator: Arc<dyn DeviceAuthenticator>) -> Self {
        let mut secret = [0u8; 32];
        // A book of this process only: its key need not be shared.
        let _ = getrandom::getrandom(&mut secret);
        Self {
            service,
            authenticator,
            trusted_proxies: TrustedProxies::none(),
            codes: Arc::new(Codes::new(&secret, None)),
            metrics: None,
            limits: Limits::default(),
            warnings: Vec::new(),
        }
    }
}

/// The gateway and what its limits count.
struct Shared {
    gateway: Gateway,
    in_flight: Arc<Semaphore>,
    enrolments: EnrolmentPace,
}

type Ctx = Arc<Shared>;

/// The device's API, with its limits.
pub fn router(gateway: Gateway) -> Router {
    let limits = gateway.limits;
    let shared = Arc::new(Shared {
        in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
        enrolments: EnrolmentPace::new(limits.enrolments_per_minute),
        gateway,
    });
    Router::new()
        .route("/v1/devices", post(enrol))
        .route("/v1/sessions", post(create_session))
        .route("/v1/profiles", get(profile))
        .route("/v1/preauthorize", post(preauthorize))
        .route("/v1/authorize", post(authorize))
        .route("/v1/logout", post(logout))
        .fallback(|| async { Failure::new(StatusCode::NOT_FOUND, "not_found") })
        .layer(middleware::from_fn_with_state(shared.clone(), admit))
        .layer(middleware::from_fn(limit_headers))
        // A body past the limit is refused before it is read (413), and axum's own default
        // limit (2 MiB) is off, as this one is lower.
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(middleware::from_fn(stable_errors))
        .with_state(shared)
}

/// The operators' `/metrics` and `/healthz`, for the admin listener.
pub fn admin_router(gateway: Gateway) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(health))
        .with_state(gateway)
}

/// Serves devices on `listener` until `shutdown` resolves, then finishes the calls in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Gateway,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = gateway.limits;
    server::serve(listener, router(gateway), limits, shutdown).await
}

/// Serves the operators' routes on `listener` (see [`admin_router`]) until `shutdown`.
pub async fn serve_admin(
    listener: tokio::net::TcpListener,
    gateway: Gateway,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = Limits {
        max_connections: 64,
        ..gateway.limits
    };
    server::serve(listener, admin_router(gateway), limits, shutdown).await
}

/// A call past `max_in_flight` is answered `busy` at once, rather than queued.
async fn admit(State(shared): State<Ctx>, request: Request, next: Next) -> Response {
    let Ok(_permit) = shared.in_flight.clone().try_acquire_owned() else {
        return Failure::new(StatusCode::SERVICE_UNAVAILABLE, "busy")
            .retry_after(1)
            .into_response();
    };
    next.run(request).await
}

/// Refuses a device request whose headers pass [`MAX_HEADERS`] (431).
async fn limit_headers(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > MAX_HEADERS {
        return Failure::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
        )
        .into_response();
    }
    next.run(request).await
}

/// Every failure the layers answer themselves (the body limit's 413, the timeout's 408, a
/// rejected extractor) gets the same `{"error": code}` body as the handlers' own.
async fn stable_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || json {
        return response;
    }
    let code = match status {
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::TOO_MANY_REQUESTS => "throttled",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_client_error() => "bad_request",
        _ => "upstream",
    };
    let mut stable = Failure::new(status, code).into_response();
    if let Some(v) = response.headers().get(header::RETRY_AFTER) {
        stable.headers_mut().insert(header::RETRY_AFTER, v.clone());
    }
    stable
}

/// The Prometheus text of the SDK's metrics (see the server guide for the list).
async fn metrics(State(gateway): State<Gateway>) -> Response {
    match &gateway.metrics {
        Some(handle) => {
            handle.run_upkeep();
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                handle.render(),
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// 200 while the gateway serves devices: with Redis away the service answers from its own
/// state, and while it fails fast it answers from its caches and with a typed error, so
/// neither takes the instance out of a load balancer (that would take every instance out at
/// once). The body says what holds: `{"status": "serving", "redis": "up" | "down" | "off",
/// "failingFast": bool, "nextProbeMs"?, "warnings": [...]}`, the warnings naming the settings
/// that make this gateway insecure or not real (`emulator`: it answers from the in-process
/// emulator; `redis_insecure`: Redis in clear over the network; `insecure_plaintext`).
async fn health(State(gateway): State<Gateway>) -> Json<Value> {
    let redis = match gateway.service.redis_reachable().await {
        None => "off",
        Some(true) => "up",
        Some(false) => "down",
    };
    let mut body = json!({
        "status": "serving",
        "redis": redis,
        "failingFast": false,
        "warnings": gateway.warnings,
    });
    if let Some(next) = gateway.service.failing_fast() {
        body["failingFast"] = json!(true);
        body["nextProbeMs"] = json!(next.as_millis() as u64);
    }
    Json(body)
}

/// A failure as the device sees it: a status and a stable code, never the failure's text;
/// while the service fails fast or the gateway is busy, with `Retry-After` (whole seconds).
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    code: &'static str,
    retry_after: Option<u64>,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            retry_after: None,
        }
    }

    fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.code }))).into_response();
        if let Some(s) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

impl From<PassError> for Failure {
    fn from(e: PassError) -> Self {
        let (status, code) = match &e {
            PassError::InvalidConfiguration { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            PassError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
            PassError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            PassError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            PassError::Server { status, .. } if (400..500).contains(status) => {
                (StatusCode::BAD_REQUEST, "bad_request")
            }
            _ => (StatusCode::BAD_GATEWAY, "upstream"),
        };
        // The SDK's errors hold no secret; the device gets only the code.
        tracing::warn!(code, error = %e, "a device call failed");
        let failure = Failure::new(status, code);
        match &e {
            PassError::Unavailable { retry_after } => {
                failure.retry_after(retry_after.as_secs_f64().ceil() as u64)
            }
            _ => failure,
        }
    }
}

fn bad_request() -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, "bad_request")
}

/// A JSON body, its rejection a `bad_request`.
struct Body<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = Failure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Failure> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Failure::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large"))
            }
            Err(_) => Err(bad_request()),
        }
    }
}

/// Where a request came from, as the trusted proxies report it.
fn origin(parts: &Parts, proxies: &TrustedProxies) -> Result<Origin, Failure> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .ok_or_else(|| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "upstream"))?;
    Ok(proxies.origin(peer, &parts.headers))
}

/// The calling device, proven by its credential: its id and its client, built with its device
/// information and the address its request came from.
struct Device {
    id: String,
    client: PassClient,
}

impl FromRequestParts<Ctx> for Device {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, shared: &Ctx) -> Result<Self, Failure> {
        let gateway = &shared.gateway;
        let id = gateway
            .authenticator
            .authenticate(&parts.headers)
            .await
            .ok_or_else(|| Failure::new(StatusCode::UNAUTHORIZED, "unauthenticated"))?;
        let from = origin(parts, &gateway.trusted_proxies)?;
        let mut context = DeviceContext::new(id.clone(), from.ip);
        if let Some(port) = from.port {
            context = context.port(port);
        }
        if let Some(info) = parts.headers.get("x-device-info") {
            let info = info.to_str().map_err(|_| bad_request())?;
            context = context.device_info(DeviceInfo::from_header_value(info)?);
        }
        Ok(Device {
            client: gateway.service.device(context)?,
            id,
        })
    }
}

/// Enrolments per source address: a bucket of `per_minute`, refilled over a minute; at most
/// 100,000 addresses are tracked (full buckets go first when the map is full).
struct EnrolmentPace {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

const MAX_TRACKED: usize = 100_000;

impl EnrolmentPace {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let rate = self.per_minute / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let refill = |(tokens, at): (f64, Instant)| {
            (tokens + now.duration_since(at).as_secs_f64() * rate).min(self.per_minute)
        };
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            let full = self.per_minute;
            buckets.retain(|_, b| refill(*b) < full);
            if buckets.len() >= MAX_TRACKED {
                return false;
            }
        }
        let bucket = buckets.entry(ip).or_insert((self.per_minute, now));
        let tokens = refill(*bucket);
        if tokens < 1.0 {
            *bucket = (tokens, now);
            return false;
        }
        *bucket = (tokens - 1.0, now);
        true
    }
}

/// `POST /v1/devices`: a new device's id and token (201), limited per source address.
async fn enrol(State(shared): State<Ctx>, request: Request) -> Result<Response, Failure> {
    let (parts, body) = request.into_parts();
    let from = origin(&parts, &shared.gateway.trusted_proxies)?;
    if !shared.enrolments.take(from.ip) {
        return Err(Failure::new(StatusCode::TOO_MANY_REQUESTS, "throttled").retry_after(60));
    }
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| Failure::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large"))?;
    if !body.iter().all(u8::is_ascii_whitespace)
        && !matches!(serde_json::from_slice::<Value>(&body), Ok(Value::Object(_)))
    {
        return Err(bad_request());
    }
    let enrolment = shared
        .gateway
        .authenticator
        .enroll(&parts.headers)
        .await
        .ok_or_else(|| Failure::new(StatusCode::UNAUTHORIZED, "unauthenticated"))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "deviceId": enrolment.device_id, "token": enrolment.token })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct Mvpd {
    mvpd: String,
}

async fn create_session(
    State(shared): State<Ctx>,
    device: Device,
    Body(body): Body<Mvpd>,
) -> Result<Json<Value>, Failure> {
    let session = device.client.create_session(&body.mvpd).await?;
    Ok(Json(match session.code {
        Some(code) => {
            let lifetime = session
                .not_after_ms
                .map(|end| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as i64);
                    Duration::from_millis(end.saturating_sub(now).max(0) as u64)
                })
                .unwrap_or(CODE_LIFETIME);
            shared.gateway.codes.bind(&code, &device.id, lifetime).await;
            json!({ "url": device.client.authentication_url(&code), "code": code })
        }
        None => json!({ "authenticated": true }),
    }))
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

async fn profile(
    State(shared): State<Ctx>,
    device: Device,
    query: Result<Query<Code>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Failure> {
    let Ok(Query(q)) = query else {
        return Err(bad_request());
    };
    // Only the device that started the session (or one its authenticator allows) polls it.
    let owner = shared.gateway.codes.owner(&q.code).await;
    let allowed = owner.is_some_and(|o| shared.gateway.authenticator.may_poll(&device.id, &o));
    if !allowed {
        return Err(Failure::new(StatusCode::NOT_FOUND, "unknown_code"));
    }
    // One request per poll of the device; the device polls every 3 to 5 seconds.
    Ok(match device.client.profile_for_code(&q.code).await? {
        Some(p) => Json(json!({ "mvpd": p.mvpd, "notAfter": p.not_after_ms })).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    })
}

#[derive(Deserialize)]
struct Resources {
    mvpd: String,
    resources: Vec<String>,
}

async fn preauthorize(
    State(shared): State<Ctx>,
    device: Device,
    Body(body): Body<Resources>,
) -> Result<Json<Value>, Failure> {
    if body.resources.len() > shared.gateway.limits.max_resources {
        return Err(Failure::new(StatusCode::BAD_REQUEST, "too_many_resources"));
    }
    let mut seen = HashSet::with_capacity(body.resources.len());
    let resources: Vec<&str> = body
        .resources
        .iter()
        .map(String::as_str)
        .filter(|r| seen.insert(*r))
        .collect();
    let decisions = device.client.preauthorize(&body.mvpd, &resources).await?;
    Ok(Json(Value::Array(
        decisions
            .iter()
            .map(|d| json!({ "resource": d.resource(), "permit": d.is_permit() }))
            .collect(),
    )))
}

#[derive(Deserialize)]
struct Resource {
    mvpd: String,
    resource: String,
}

async fn authorize(device: Device, Body(body): Body<Resource>) -> Result<Json<Value>, Failure> {
    Ok(Json(
        match device.client.authorize(&body.mvpd, &body.resource).await? {
            Decision::Permit { media_token, .. } => json!({
                "permit": true,
                // The player verifies it with the Media Token Verifier.
                "mediaToken": media_token.map(|t| t.serialized.expose().to_string()),
            }),
            Decision::Deny { error, .. } => json!({
                "permit": false,
                "reason": error.code,
                "message": error.message,
                "details": error.details,
            }),
        },
    ))
}

async fn logout(device: Device, Body(body): Body<Mvpd>) -> Result<Json<Value>, Failure> {
    Ok(Json(match device.client.logout(&body.mvpd).await? {
        LogoutAction::OpenUrl { url } => json!({ "openUrl": url }),
        _ => json!({ "done": true }),
    }))
}

/// The headers' `Authorization` bearer token (for an authenticator of the operator's own).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    auth::bearer(headers)
}
