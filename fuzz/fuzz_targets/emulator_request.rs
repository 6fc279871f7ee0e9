//! The emulator's request handling (routing, headers, forms, JSON bodies, tokens, codes): any
//! request gets an answer, never a panic, and never a 5xx (it injects none unless told to).
//!
//! The input is an HTTP request in text: `METHOD PATH` on the first line, then `Name: value`
//! header lines, a blank line and the body. Each input runs against a fresh emulator that has
//! registered one client and signed a device in with the MVPD `Cablevision`: `@client`,
//! `@secret` and `@token` anywhere in the input stand for that client's id, secret and access
//! token, `@code` for the session code, so inputs reach past the authentication checks.
#![no_main]
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;
use tvpass_emulator::state::Shared;
use tvpass_emulator::{router, EmulatorConfig, DEFAULT_SOFTWARE_STATEMENT};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

async fn call(app: &axum::Router, request: Request<Body>) -> (u16, Vec<u8>) {
    let mut request = request;
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let answer = app.clone().oneshot(request).await.expect("infallible");
    let status = answer.status().as_u16();
    let body = axum::body::to_bytes(answer.into_body(), 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (status, body)
}

fn field(body: &[u8], name: &str) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get(name).and_then(|s| s.as_str()).map(str::to_string))
        .unwrap_or_default()
}

/// A client registered, a token issued and a device signed in, as a device would get them:
/// `@client`, `@secret`, `@token` and `@code` with their values.
async fn prepared(app: &axum::Router) -> [(&'static str, String); 4] {
    let register = Request::post("/o/client/register")
        .header("content-type", "application/json")
        .header("x-device-info", "e30=")
        .body(Body::from(
            serde_json::json!({ "software_statement": DEFAULT_SOFTWARE_STATEMENT }).to_string(),
        ))
        .expect("a request");
    let (_, body) = call(app, register).await;
    let (client, secret) = (field(&body, "client_id"), field(&body, "client_secret"));
    let form = format!("client_id={client}&client_secret={secret}&grant_type=client_credentials");
    let token = Request::post("/o/client/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-device-info", "e30=")
        .body(Body::from(form))
        .expect("a request");
    let (_, body) = call(app, token).await;
    let token = field(&body, "access_token");
    let session = Request::post("/api/v2/REF30/sessions")
        .header("authorization", format!("Bearer {token}"))
        .header("ap-device-identifier", "fingerprint ZGV2aWNl")
        .header("x-device-info", "e30=")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "domainName=example.com&redirectUrl=https%3A%2F%2Fexample.com&mvpd=Cablevision",
        ))
        .expect("a request");
    let (_, body) = call(app, session).await;
    let code = field(&body, "code");
    let login = Request::post(format!("/__emulator/sessions/{code}/complete"))
        .body(Body::empty())
        .expect("a request");
    call(app, login).await;
    [
        ("@client", client),
        ("@secret", secret),
        ("@token", token),
        ("@code", code),
    ]
}

fn parse(text: &str) -> Option<Request<Body>> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let (method, path) = lines.next()?.split_once(' ')?;
    let mut request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(path);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            request = request.header(name.trim(), value.trim());
        }
    }
    request.body(Body::from(body.to_string())).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    runtime().block_on(async {
        let app = router(Arc::new(Shared::new(EmulatorConfig::default())));
        let mut text = text.to_string();
        for (name, value) in prepared(&app).await {
            text = text.replace(name, &value);
        }
        let Some(request) = parse(&text) else {
            return;
        };
        let (status, _) = call(&app, request).await;
        assert!(status < 500, "the emulator answered {status}");
    });
});
