//! A programmer's service for streaming devices that cannot call Adobe Pass themselves (a Roku
//! channel, a web TV app): the device calls this gateway with its own id, and the gateway
//! calls the REST API V2 on the device's behalf with one `PassService`, forwarding the
//! device's IP (`X-Forwarded-For`), connection and device information.
//!
//! `cargo run -p tvpass-gateway` serves on `127.0.0.1:8088` against the in-process emulator;
//! [`Settings::from_env`] lists what the environment sets (a real environment, a Redis fleet,
//! the fleet's key). Operators get `GET /metrics` (Prometheus text) and `GET /healthz`.
//!
//! The device's API (every call carries `X-Device-Id`, and may carry `X-Device-Info`):
//!
//! | call | body / query | answer |
//! |---|---|---|
//! | `POST /v1/sessions` | `{"mvpd": "..."}` | `{"code", "url"}` to show, or `{"authenticated": true}` |
//! | `GET /v1/profiles?code=...` | | `200 {"mvpd", "notAfter"}` once logged in, `202` before |
//! | `POST /v1/preauthorize` | `{"mvpd", "resources": [...]}` | `[{"resource", "permit"}]` |
//! | `POST /v1/authorize` | `{"mvpd", "resource"}` | `{"permit": true, "mediaToken"}` or `{"permit": false, "reason", "message"}` |
//! | `POST /v1/logout` | `{"mvpd"}` | `{"done": true}` or `{"openUrl"}` |
//!
//! Errors are `{"error": "..."}` with a status: 400 for bad input (413 for a body over 16 KiB,
//! 431 for headers over 8 KiB), 429 when Adobe Pass throttles, 503 with `Retry-After` while the
//! service fails fast, 502 for other failures of Adobe Pass, 504 when it does not answer in
//! time, and 408 when a device call takes longer than the gateway's request timeout.

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tvpass::{
    Decision, DeviceContext, DeviceInfo, Environment, LogoutAction, PassClient, PassError,
    PassService,
};

/// The largest body of a device request (the largest, a preauthorize list, is far smaller).
pub const MAX_BODY: usize = 16 * 1024;
/// The most bytes of headers of a device request (`X-Device-Info` itself is at most 8 KiB
/// encoded, which [`tvpass::MAX_DEVICE_INFO`] checks again).
pub const MAX_HEADERS: usize = 16 * 1024;

/// The gateway's state: the one service, whether to trust `X-Forwarded-For`, and where its
/// metrics are read (none: `/metrics` answers 404).
#[derive(Clone)]
pub struct Gateway {
    /// The service every device call goes through.
    pub service: PassService,
    /// Take the device's address from `X-Forwarded-For` (a load balancer in front sets it).
    pub behind_proxy: bool,
    /// What `/metrics` renders.
    pub metrics: Option<PrometheusHandle>,
    /// The longest a device call may take before the gateway answers 408.
    pub request_timeout: Duration,
}

impl Gateway {
    /// A gateway for `service`, with no proxy in front, no metrics and a 35 s request timeout
    /// (the SDK's 30 s deadline of a call, and time to answer).
    pub fn new(service: PassService) -> Self {
        Self {
            service,
            behind_proxy: false,
            metrics: None,
            request_timeout: Duration::from_secs(35),
        }
    }
}

/// The device's API, with its limits, and the operators' `/metrics` and `/healthz`.
pub fn router(gateway: Gateway) -> Router {
    let devices = Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/profiles", get(profile))
        .route("/v1/preauthorize", post(preauthorize))
        .route("/v1/authorize", post(authorize))
        .route("/v1/logout", post(logout))
        .layer(middleware::from_fn(limit_headers))
        // A body past the limit is refused before it is read (413), and axum's own default
        // limit (2 MiB) is off, as this one is lower.
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            gateway.request_timeout,
        ));
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(health))
        .merge(devices)
        .with_state(gateway)
}

/// Refuses a device request whose headers pass [`MAX_HEADERS`] (431).
async fn limit_headers(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > MAX_HEADERS {
        return Failure(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers too large".into(),
            None,
        )
        .into_response();
    }
    next.run(request).await
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
/// once). The body says what holds: `{"redis": "up" | "down" | "off", "failingFast": bool,
/// "nextProbeMs"?}`.
async fn health(State(gateway): State<Gateway>) -> Json<Value> {
    let redis = match gateway.service.redis_reachable().await {
        None => "off",
        Some(true) => "up",
        Some(false) => "down",
    };
    let mut body = json!({ "status": "serving", "redis": redis, "failingFast": false });
    if let Some(next) = gateway.service.failing_fast() {
        body["failingFast"] = json!(true);
        body["nextProbeMs"] = json!(next.as_millis() as u64);
    }
    Json(body)
}

/// A failure as the device sees it: a status and a short JSON reason, never a secret; while
/// the service fails fast, with `Retry-After` (whole seconds, at least 1).
pub struct Failure(StatusCode, String, Option<u64>);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(json!({ "error": self.1 }))).into_response();
        if let Some(s) = self.2 {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

impl From<PassError> for Failure {
    fn from(e: PassError) -> Self {
        let status = match &e {
            PassError::InvalidConfiguration { .. } => StatusCode::BAD_REQUEST,
            PassError::Throttled => StatusCode::TOO_MANY_REQUESTS,
            PassError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            PassError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            PassError::Server { status, .. } if (400..500).contains(status) => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::BAD_GATEWAY,
        };
        let retry_after = match &e {
            PassError::Unavailable { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        Failure(status, e.to_string(), retry_after)
    }
}

fn bad_request(reason: &str) -> Failure {
    Failure(StatusCode::BAD_REQUEST, reason.into(), None)
}

/// The client for the calling device, taken from its request: its id, its device information,
/// and the address its request came from (the proxy's `X-Forwarded-For` when behind one).
struct Device(PassClient);

impl FromRequestParts<Gateway> for Device {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, gateway: &Gateway) -> Result<Self, Failure> {
        let headers = &parts.headers;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .ok_or_else(|| {
                Failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no peer address".into(),
                    None,
                )
            })?;
        let id = header("x-device-id").ok_or_else(|| bad_request("X-Device-Id is required"))?;
        let forwarded = header("x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let ip = match forwarded {
            Some(ip) if gateway.behind_proxy => ip,
            _ => peer.ip(),
        };
        let mut context = DeviceContext::new(id, ip).port(peer.port());
        if let Some(info) = header("x-device-info") {
            context = context.device_info(DeviceInfo::from_header_value(info)?);
        }
        Ok(Device(gateway.service.device(context)?))
    }
}

#[derive(Deserialize)]
struct Mvpd {
    mvpd: String,
}

async fn create_session(
    Device(client): Device,
    Json(body): Json<Mvpd>,
) -> Result<Json<Value>, Failure> {
    let session = client.create_session(&body.mvpd).await?;
    Ok(Json(match session.code {
        Some(code) => json!({ "url": client.authentication_url(&code), "code": code }),
        None => json!({ "authenticated": true }),
    }))
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

async fn profile(Device(client): Device, Query(q): Query<Code>) -> Result<Response, Failure> {
    // One request per poll of the device; the device polls every 3 to 5 seconds.
    Ok(match client.profile_for_code(&q.code).await? {
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
    Device(client): Device,
    Json(body): Json<Resources>,
) -> Result<Json<Value>, Failure> {
    let resources: Vec<&str> = body.resources.iter().map(String::as_str).collect();
    let decisions = client.preauthorize(&body.mvpd, &resources).await?;
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

async fn authorize(
    Device(client): Device,
    Json(body): Json<Resource>,
) -> Result<Json<Value>, Failure> {
    Ok(Json(
        match client.authorize(&body.mvpd, &body.resource).await? {
            Decision::Permit { media_token, .. } => json!({
                "permit": true,
                // The player verifies it with the Media Token Verifier.
                "mediaToken": media_token.map(|t| t.serialized.expose().to_string()),
            }),
            Decision::Deny { reason, error, .. } => json!({
                "permit": false,
                "reason": format!("{reason:?}"),
                "message": error.message,
            }),
        },
    ))
}

async fn logout(Device(client): Device, Json(body): Json<Mvpd>) -> Result<Json<Value>, Failure> {
    Ok(Json(match client.logout(&body.mvpd).await? {
        LogoutAction::OpenUrl { url } => json!({ "openUrl": url }),
        _ => json!({ "done": true }),
    }))
}

/// What the environment sets; every variable is optional.
///
/// | variable | what | default |
/// |---|---|---|
/// | `TVPASS_BASE_URL` | Adobe Pass's base URL | the emulator, in process |
/// | `TVPASS_SERVICE_PROVIDER`, `TVPASS_SOFTWARE_STATEMENT` | the registration | the emulator's |
/// | `GATEWAY_ADDR` | where devices call | `127.0.0.1:8088` |
/// | `GATEWAY_BEHIND_PROXY` | `1`: the device's address is `X-Forwarded-For`'s first | off |
/// | `GATEWAY_REQUEST_TIMEOUT_MS` | a device call's longest | 35,000 |
/// | `TVPASS_REDIS_URL` | a fleet: `redis://` or `rediss://` (TLS), credentials in the URL | none |
/// | `TVPASS_FLEET_KEY` | the key sealing the fleet's values: 32 bytes, base64 | required with Redis |
/// | `TVPASS_FLEET_PREVIOUS_KEYS` | older keys, comma-separated, still read | none |
/// | `TVPASS_INSECURE_PLAINTEXT` | `1`: a fleet without a key keeps values in plain text | off |
/// | `TVPASS_FLEET_INSTANCES` | instances in the fleet | 1 |
#[derive(Clone, Default)]
pub struct Settings {
    /// `TVPASS_BASE_URL`.
    pub base_url: Option<String>,
    /// `TVPASS_SERVICE_PROVIDER`.
    pub service_provider: Option<String>,
    /// `TVPASS_SOFTWARE_STATEMENT`.
    pub software_statement: Option<String>,
    /// `GATEWAY_ADDR`.
    pub addr: Option<String>,
    /// `GATEWAY_BEHIND_PROXY`.
    pub behind_proxy: bool,
    /// `GATEWAY_REQUEST_TIMEOUT_MS`.
    pub request_timeout: Option<Duration>,
    /// `TVPASS_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `TVPASS_FLEET_KEY`.
    pub fleet_key: Option<String>,
    /// `TVPASS_FLEET_PREVIOUS_KEYS`.
    pub fleet_previous_keys: Vec<String>,
    /// `TVPASS_INSECURE_PLAINTEXT`.
    pub insecure_plaintext: bool,
    /// `TVPASS_FLEET_INSTANCES`.
    pub fleet_instances: Option<u32>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Redis URL may hold a password, the statement and the keys are secrets.
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("addr", &self.addr)
            .field("behind_proxy", &self.behind_proxy)
            .field("fleet", &self.redis_url.is_some())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The settings of the environment variables (see the table above).
    pub fn from_env() -> Result<Self, String> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let flag = |name: &str| env(name).is_some_and(|v| v == "1" || v == "true");
        let number = |name: &str| -> Result<Option<u64>, String> {
            env(name)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| format!("{name}: not a number"))
                })
                .transpose()
        };
        Ok(Self {
            base_url: env("TVPASS_BASE_URL"),
            service_provider: env("TVPASS_SERVICE_PROVIDER"),
            software_statement: env("TVPASS_SOFTWARE_STATEMENT"),
            addr: env("GATEWAY_ADDR"),
            behind_proxy: flag("GATEWAY_BEHIND_PROXY"),
            request_timeout: number("GATEWAY_REQUEST_TIMEOUT_MS")?.map(Duration::from_millis),
            redis_url: env("TVPASS_REDIS_URL"),
            fleet_key: env("TVPASS_FLEET_KEY"),
            fleet_previous_keys: env("TVPASS_FLEET_PREVIOUS_KEYS")
                .map(|v| v.split(',').map(|k| k.trim().to_string()).collect())
                .unwrap_or_default(),
            insecure_plaintext: flag("TVPASS_INSECURE_PLAINTEXT"),
            fleet_instances: number("TVPASS_FLEET_INSTANCES")?
                .map(|n| u32::try_from(n).map_err(|_| "TVPASS_FLEET_INSTANCES: too large"))
                .transpose()?,
        })
    }

    /// The service of these settings against `base_url`.
    pub fn service(&self, base_url: String) -> Result<PassService, PassError> {
        let mut b = PassService::builder()
            .environment(Environment::Custom(base_url))
            .service_provider(
                self.service_provider
                    .clone()
                    .unwrap_or_else(|| tvpass_emulator::DEFAULT_SERVICE_PROVIDER.into()),
            )
            .software_statement(
                self.software_statement
                    .clone()
                    .unwrap_or_else(|| tvpass_emulator::DEFAULT_SOFTWARE_STATEMENT.into()),
            );
        if let Some(url) = &self.redis_url {
            b = b.redis(url.clone());
            if let Some(key) = &self.fleet_key {
                b = b.fleet_key(key.clone());
            }
            for key in &self.fleet_previous_keys {
                b = b.fleet_previous_key(key.clone());
            }
            if self.insecure_plaintext {
                b = b.insecure_plaintext();
            }
            if let Some(n) = self.fleet_instances {
                b = b.fleet_instances(n);
            }
        }
        b.build()
    }
}

/// Serves devices on `listener` until `shutdown` resolves, then finishes the calls in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Gateway,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(gateway).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
