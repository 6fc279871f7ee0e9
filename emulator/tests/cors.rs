//! CORS for pages on loopback origins (`cors_loopback`, off by default): preflights are answered
//! without reaching the log or the throttle, answers let the page read them, other origins get
//! nothing.

mod common;
use common::H;
use tvpass_emulator::EmulatorConfig;

fn preflight(h: &H, origin: &str) -> reqwest::RequestBuilder {
    h.http
        .request(
            reqwest::Method::OPTIONS,
            h.url("/api/v2/REF30/configuration"),
        )
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header(
            "access-control-request-headers",
            "authorization,ap-device-identifier,x-device-info",
        )
}

#[tokio::test]
async fn loopback_pages_may_call_the_emulator_when_asked() {
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = false;
    c.cors_loopback = true;
    let h = H::with(c).await;
    h.emu.clear_requests();

    let r = preflight(&h, "http://127.0.0.1:5173").send().await.unwrap();
    assert_eq!(r.status(), 204);
    let allow = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        allow("access-control-allow-origin").as_deref(),
        Some("http://127.0.0.1:5173")
    );
    assert_eq!(
        allow("access-control-allow-headers").as_deref(),
        Some("authorization,ap-device-identifier,x-device-info")
    );
    assert!(allow("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(h.emu.requests().is_empty(), "preflights are not logged");

    let r = h
        .with_headers(h.get("/api/v2/REF30/configuration"))
        .header("origin", "http://localhost:8000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("access-control-allow-origin").unwrap(),
        "http://localhost:8000"
    );

    // Another origin gets no permission.
    let r = preflight(&h, "https://example.com").send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let h = H::new().await;
    let r = preflight(&h, "http://127.0.0.1:5173").send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = h
        .with_headers(h.get("/api/v2/REF30/configuration"))
        .header("origin", "http://127.0.0.1:5173")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}
