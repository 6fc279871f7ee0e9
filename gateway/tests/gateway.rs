//! The gateway in process, driven over HTTP as a device drives it, against the emulator with
//! its throttling on: an enrolled device's id, information, IP and port reach Adobe Pass, and
//! bad input gets a 4xx with a stable code.

use base64::Engine;
use std::sync::Arc;
use tvpass::{DeviceInfo, Environment, PassService};
use tvpass_emulator::{Emulator, DEFAULT_SOFTWARE_STATEMENT};
use tvpass_gateway::{Gateway, GatewayTokens, TrustedProxies};

const KEY: &str = "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=";

fn gateway(service: PassService) -> Gateway {
    Gateway::new(service, Arc::new(GatewayTokens::new(KEY, &[]).unwrap()))
}

fn service_of(emu: &Emulator) -> PassService {
    PassService::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .build()
        .unwrap()
}

async fn start(proxies: &str) -> (Emulator, String) {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let mut gateway = gateway(service_of(&emu));
    gateway.trusted_proxies = TrustedProxies::parse(proxies).unwrap();
    (emu, serve(gateway).await)
}

/// Enrols a device: its bearer token.
async fn enrol(http: &reqwest::Client, gw: &str) -> String {
    let r = http.post(format!("{gw}/v1/devices")).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(!body["deviceId"].as_str().unwrap().is_empty());
    body["token"].as_str().unwrap().to_string()
}

/// The JSON answer of a request that must succeed.
async fn answer(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn roku_info() -> String {
    DeviceInfo {
        primary_hardware_type: Some("SetTopBox".into()),
        os_name: Some("Roku OS".into()),
        model: Some("Ultra".into()),
        ..Default::default()
    }
    .header_value()
}

#[tokio::test]
async fn a_device_logs_in_and_plays_through_the_gateway() {
    let (emu, gw) = start("").await;
    let http = reqwest::Client::new();
    let token = enrol(&http, &gw).await;
    let call = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{gw}{path}"))
            .bearer_auth(&token)
            .header("x-device-info", roku_info())
    };
    let started = answer(
        call(reqwest::Method::POST, "/v1/sessions")
            .json(&serde_json::json!({ "mvpd": "Cablevision" })),
    )
    .await;
    let code = started["code"].as_str().unwrap().to_string();
    assert!(started["url"].as_str().unwrap().contains(&code));
    let pending = call(reqwest::Method::GET, &format!("/v1/profiles?code={code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pending.status(), 202);
    emu.complete_authentication(&code, Default::default())
        .unwrap();
    let profile = answer(call(
        reqwest::Method::GET,
        &format!("/v1/profiles?code={code}"),
    ))
    .await;
    assert_eq!(profile["mvpd"], "Cablevision");
    let pre = answer(
        call(reqwest::Method::POST, "/v1/preauthorize")
            .json(&serde_json::json!({ "mvpd": "Cablevision", "resources": ["news", "sports"] })),
    )
    .await;
    assert_eq!(pre[0]["permit"], true);
    assert_eq!(pre[1]["resource"], "sports");
    let permit = answer(
        call(reqwest::Method::POST, "/v1/authorize")
            .json(&serde_json::json!({ "mvpd": "Cablevision", "resource": "news" })),
    )
    .await;
    assert_eq!(permit["permit"], true);
    assert!(!permit["mediaToken"].as_str().unwrap().is_empty());

    // Every device call reached Adobe Pass with the device's identity and address.
    let calls: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/") && !r.path.ends_with("/configuration"))
        .collect();
    // session, two polls, preauthorize, authorize: nothing more.
    assert_eq!(calls.len(), 5);
    for r in &calls {
        assert_eq!(r.header("x-forwarded-for"), Some("127.0.0.1"), "{}", r.path);
        if let Some(info) = r.header("x-device-info") {
            let info: serde_json::Value = serde_json::from_slice(
                &base64::engine::general_purpose::STANDARD
                    .decode(info)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(info["osName"], "Roku OS");
            assert_eq!(info["model"], "Ultra");
            assert_eq!(info["connectionIp"], "127.0.0.1");
            assert!(info["connectionPort"].as_u64().unwrap() > 0);
        }
    }

    let logout = answer(
        call(reqwest::Method::POST, "/v1/logout")
            .json(&serde_json::json!({ "mvpd": "Cablevision" })),
    )
    .await;
    assert!(
        logout.get("openUrl").is_some() || logout["done"] == true,
        "{logout}"
    );
    let deny = answer(
        call(reqwest::Method::POST, "/v1/authorize")
            .json(&serde_json::json!({ "mvpd": "Cablevision", "resource": "news" })),
    )
    .await;
    assert_eq!(deny["permit"], false, "{deny}");
}

#[tokio::test]
async fn bad_device_input_is_refused_and_a_proxy_address_is_forwarded_when_trusted() {
    let (emu, gw) = start("127.0.0.1, 10.0.0.0/8").await;
    let http = reqwest::Client::new();
    let token = enrol(&http, &gw).await;
    let no_token = http
        .post(format!("{gw}/v1/sessions"))
        .header("x-device-id", "tv-1")
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    assert_eq!(
        no_token.text().await.unwrap(),
        r#"{"error":"unauthenticated"}"#
    );
    let bad_info = http
        .post(format!("{gw}/v1/sessions"))
        .bearer_auth(&token)
        .header("x-device-info", "not base64 !")
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_info.status(), 400);
    let body = bad_info.text().await.unwrap();
    assert_eq!(body, r#"{"error":"bad_request"}"#);
    // The client wrote 198.51.100.1; the proxies (the loopback peer, then 10.0.0.1) appended
    // what they saw.
    let ok = http
        .post(format!("{gw}/v1/sessions"))
        .bearer_auth(&token)
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.0.0.1")
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let session = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sessions"))
        .unwrap();
    assert_eq!(session.header("x-forwarded-for"), Some("203.0.113.7"));
}

/// The operators' listener of `gateway`.
async fn serve_admin(gateway: Gateway) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(tvpass_gateway::serve_admin(
        listener,
        gateway,
        std::future::pending(),
    ));
    url
}

/// The gateway with its service and emulator built here, for the limits.
async fn serve(gateway: Gateway) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(tvpass_gateway::serve(
        listener,
        gateway,
        std::future::pending(),
    ));
    url
}

#[tokio::test]
async fn oversized_bodies_and_headers_and_slow_calls_get_a_4xx() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let service = PassService::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .build()
        .unwrap();
    let mut gateway = gateway(service);
    gateway.limits.request_timeout = std::time::Duration::from_millis(300);
    let gw = serve(gateway).await;
    let http = reqwest::Client::new();
    let token = enrol(&http, &gw).await;
    let post = |body: serde_json::Value| {
        http.post(format!("{gw}/v1/preauthorize"))
            .bearer_auth(&token)
            .json(&body)
    };
    let resources: Vec<String> = (0..2_000).map(|i| format!("resource-{i}")).collect();
    let big = post(serde_json::json!({ "mvpd": "Cablevision", "resources": resources }))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    let headers = post(serde_json::json!({ "mvpd": "Cablevision", "resources": ["news"] }))
        .header("x-padding", "p".repeat(tvpass_gateway::MAX_HEADERS))
        .send()
        .await
        .unwrap();
    assert_eq!(headers.status(), 431);
    let not_json = http
        .post(format!("{gw}/v1/authorize"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"mvpd\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    // Adobe Pass takes longer than the gateway allows a device call.
    emu.inject_fault("/api/v2/", tvpass_emulator::Fault::Delay { ms: 2_000 }, 1);
    let slow = http
        .post(format!("{gw}/v1/sessions"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 408);
    assert_eq!(slow.text().await.unwrap(), r#"{"error":"timeout"}"#);
}

#[tokio::test]
async fn a_failing_fast_service_answers_503_with_retry_after() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let service = PassService::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .fail_fast(tvpass::FailFast {
            failures: 2,
            cool_down: std::time::Duration::from_secs(5),
            ..Default::default()
        })
        .build()
        .unwrap();
    service.warm_up().await.unwrap();
    let gateway = gateway(service);
    let admin = serve_admin(gateway.clone()).await;
    let gw = serve(gateway).await;
    emu.inject_fault(
        "/api/v2/",
        tvpass_emulator::Fault::Status { status: 503 },
        u32::MAX,
    );
    let http = reqwest::Client::new();
    let token = enrol(&http, &gw).await;
    let call = || {
        http.post(format!("{gw}/v1/sessions"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "mvpd": "Cablevision" }))
            .send()
    };
    // The first call's attempts fail; then the service fails fast.
    assert_eq!(call().await.unwrap().status(), 502);
    let fast = call().await.unwrap();
    assert_eq!(fast.status(), 503);
    let retry_after: u64 = fast.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=8).contains(&retry_after), "{retry_after}");
    assert_eq!(fast.text().await.unwrap(), r#"{"error":"unavailable"}"#);
    let health: serde_json::Value = http
        .get(format!("{admin}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["failingFast"], true, "{health}");
    assert_eq!(health["redis"], "off", "{health}");
    // Health is not on the devices' listener.
    let on_devices = http.get(format!("{gw}/healthz")).send().await.unwrap();
    assert_eq!(on_devices.status(), 404);
    assert_eq!(on_devices.text().await.unwrap(), r#"{"error":"not_found"}"#);
}

/// An operator's own credentials: the app's account tokens (here a table standing in for the
/// app's verifier), a device id that stays the same across reinstalls, and a second screen of
/// the same account allowed to poll a code.
struct Claims {
    device_id: String,
}

struct Verifier {
    tokens: std::collections::HashMap<&'static str, (&'static str, &'static str)>,
}

impl std::ops::Deref for AppAccounts {
    type Target = Verifier;
    fn deref(&self) -> &Verifier {
        &self.0
    }
}

impl Verifier {
    async fn verify(&self, token: &str) -> Option<Claims> {
        self.tokens.get(token).map(|(device, _)| Claims {
            device_id: device.to_string(),
        })
    }
    fn same_account(&self, a: &str, b: &str) -> bool {
        let account = |d: &str| self.tokens.values().find(|(dev, _)| *dev == d).map(|v| v.1);
        account(a).is_some() && account(a) == account(b)
    }
}

struct AppAccounts(Verifier);

use axum::http::HeaderMap;
use tvpass_gateway::auth::{AuthFuture, DeviceAuthenticator, Enrolment};

/// Devices sign in with the app's own account token; the device id is the account's device
/// record, the same after a reinstall.
impl DeviceAuthenticator for AppAccounts {
    fn enroll<'a>(&'a self, _: &'a HeaderMap) -> AuthFuture<'a, Option<Enrolment>> {
        Box::pin(async { None }) // devices enrol in the app's own backend
    }
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> AuthFuture<'a, Option<String>> {
        Box::pin(async move {
            let token = tvpass_gateway::bearer_token(headers)?;
            self.verify(token).await.map(|claims| claims.device_id)
        })
    }
    fn may_poll(&self, caller: &str, owner: &str) -> bool {
        // A second screen of the same account may look the code up.
        self.same_account(caller, owner)
    }
}

#[tokio::test]
async fn an_operators_authenticator_names_its_devices_and_lets_a_second_screen_poll() {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let accounts = AppAccounts(Verifier {
        tokens: [
            ("tv-token", ("household-7-tv", "household-7")),
            ("phone-token", ("household-7-phone", "household-7")),
            ("neighbour-token", ("household-8-tv", "household-8")),
        ]
        .into_iter()
        .collect(),
    });
    let gw = serve(Gateway::new(service_of(&emu), Arc::new(accounts))).await;
    let http = reqwest::Client::new();
    // Enrolment is the app's own: the gateway offers none.
    let r = http.post(format!("{gw}/v1/devices")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let started: serde_json::Value = http
        .post(format!("{gw}/v1/sessions"))
        .bearer_auth("tv-token")
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = started["code"].as_str().unwrap().to_string();
    let session = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sessions"))
        .unwrap();
    // Adobe Pass sees the operator's stable id (as the SDK sends it: a digest), not a random one.
    let sent = session.header("ap-device-identifier").unwrap().to_string();
    let poll = |token: &'static str| {
        http.get(format!("{gw}/v1/profiles?code={code}"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(poll("phone-token").await.unwrap().status(), 202);
    assert_eq!(poll("neighbour-token").await.unwrap().status(), 404);
    assert_eq!(poll("tv-token").await.unwrap().status(), 202);
    // Signed in again (a reinstall): the same device for Adobe Pass.
    http.post(format!("{gw}/v1/sessions"))
        .bearer_auth("tv-token")
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap();
    let again = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/sessions"))
        .nth(1)
        .unwrap();
    assert_eq!(again.header("ap-device-identifier"), Some(sent.as_str()));
}
