//! A programmer's service for streaming devices that cannot call Adobe Pass themselves (a Roku
//! channel, a web TV app): the device calls this gateway with its own id, and the gateway
//! calls the REST API V2 on the device's behalf with one `PassService`, forwarding the
//! device's IP (`X-Forwarded-For`), connection and device information.
//!
//! `cargo run --example s2s_gateway` serves on `127.0.0.1:8088` against the in-process
//! emulator. Set `TVPASS_BASE_URL`, `TVPASS_SERVICE_PROVIDER` and `TVPASS_SOFTWARE_STATEMENT`
//! for a real environment, `GATEWAY_ADDR` for another address, and `GATEWAY_BEHIND_PROXY=1`
//! when a load balancer in front of it sets `X-Forwarded-For`.
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

use axum::extract::{ConnectInfo, FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use tvpass::{
    Decision, DeviceContext, DeviceInfo, Environment, LogoutAction, PassClient, PassError,
    PassService,
};

/// The gateway's state: the one service, and whether to trust `X-Forwarded-For`.
#[derive(Clone)]
pub struct Gateway {
    pub service: PassService,
    pub behind_proxy: bool,
}

/// The device's API.
pub fn router(gateway: Gateway) -> Router {
    Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/profiles", get(profile))
        .route("/v1/preauthorize", post(preauthorize))
        .route("/v1/authorize", post(authorize))
        .route("/v1/logout", post(logout))
        .with_state(gateway)
}

/// A failure as the device sees it: a status and a short JSON reason, never a secret.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<PassError> for Failure {
    fn from(e: PassError) -> Self {
        let status = match &e {
            PassError::InvalidConfiguration { .. } => StatusCode::BAD_REQUEST,
            PassError::Throttled => StatusCode::TOO_MANY_REQUESTS,
            PassError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            PassError::Server { status, .. } if (400..500).contains(status) => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::BAD_GATEWAY,
        };
        Failure(status, e.to_string())
    }
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
            .ok_or_else(|| Failure(StatusCode::INTERNAL_SERVER_ERROR, "no peer address".into()))?;
        let id = header("x-device-id")
            .ok_or_else(|| Failure(StatusCode::BAD_REQUEST, "X-Device-Id is required".into()))?;
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

#[tokio::main]
#[allow(dead_code)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    // Without a base URL, the in-process emulator stands in for Adobe Pass.
    let (emulator, base_url) = match env("TVPASS_BASE_URL") {
        Some(url) => (None, url),
        None => {
            let e = tvpass_emulator::Emulator::start(Default::default()).await?;
            let url = e.base_url();
            println!("Adobe Pass stand-in: the emulator at {url}");
            (Some(e), url)
        }
    };
    let service = PassService::builder()
        .environment(Environment::Custom(base_url))
        .service_provider(
            env("TVPASS_SERVICE_PROVIDER")
                .unwrap_or_else(|| tvpass_emulator::DEFAULT_SERVICE_PROVIDER.into()),
        )
        .software_statement(
            env("TVPASS_SOFTWARE_STATEMENT")
                .unwrap_or_else(|| tvpass_emulator::DEFAULT_SOFTWARE_STATEMENT.into()),
        )
        .build()?;
    // Register and fetch the token before the first device calls.
    service.warm_up().await?;
    let gateway = Gateway {
        service,
        behind_proxy: env("GATEWAY_BEHIND_PROXY").is_some_and(|v| v == "1"),
    };
    let addr = env("GATEWAY_ADDR").unwrap_or_else(|| "127.0.0.1:8088".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("Gateway for devices at http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        router(gateway).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    drop(emulator);
    Ok(())
}
