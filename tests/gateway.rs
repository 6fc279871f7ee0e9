//! The server-to-server example, driven over HTTP as a device drives it, against the emulator
//! with its throttling on: the device's id, information, IP and port reach Adobe Pass.

#[allow(dead_code)]
#[path = "../examples/s2s_gateway.rs"]
mod gateway;

use base64::Engine;
use std::net::SocketAddr;
use tvpass::{DeviceInfo, Environment, PassService};
use tvpass_emulator::{Emulator, DEFAULT_SOFTWARE_STATEMENT};

async fn start(behind_proxy: bool) -> (Emulator, String) {
    let emu = Emulator::start(Default::default()).await.unwrap();
    let service = PassService::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = gateway::router(gateway::Gateway {
        service,
        behind_proxy,
    });
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (emu, url)
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
    let (emu, gw) = start(false).await;
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{gw}{path}"))
            .header("x-device-id", "roku-serial-1234")
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
    let (emu, gw) = start(true).await;
    let http = reqwest::Client::new();
    let no_id = http
        .post(format!("{gw}/v1/sessions"))
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap();
    assert_eq!(no_id.status(), 400);
    let bad_info = http
        .post(format!("{gw}/v1/sessions"))
        .header("x-device-id", "tv-1")
        .header("x-device-info", "not base64 !")
        .json(&serde_json::json!({ "mvpd": "Cablevision" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_info.status(), 400);
    let body = bad_info.text().await.unwrap();
    assert!(body.contains("device_info"), "{body}");
    let ok = http
        .post(format!("{gw}/v1/sessions"))
        .header("x-device-id", "tv-1")
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
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
