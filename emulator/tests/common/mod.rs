#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::{Client, Response};
use serde_json::{json, Value};
use tvpass_emulator::{Emulator, EmulatorConfig, DEFAULT_SOFTWARE_STATEMENT};

pub const SP: &str = "REF30";

pub fn device_id_header(id: &str) -> String {
    format!("fingerprint {}", STANDARD.encode(id))
}

pub fn device_info() -> String {
    STANDARD.encode(
        json!({"primaryHardwareType": "SetTopBox", "model": "TV", "vendor": "Apple", "osName": "tvOS"})
            .to_string(),
    )
}

pub fn identity(hash: &str) -> String {
    STANDARD.encode(json!({ "email": hash }).to_string())
}

/// An emulator with a registered client and a token, speaking as one device.
pub struct H {
    pub emu: Emulator,
    pub http: Client,
    pub client_id: String,
    pub client_secret: String,
    pub token: String,
    pub device: String,
}

impl H {
    pub async fn new() -> Self {
        let mut c = EmulatorConfig::default();
        c.throttling.enabled = false;
        Self::with(c).await
    }

    pub async fn with(config: EmulatorConfig) -> Self {
        let emu = Emulator::start(config).await.expect("start");
        let http = Client::new();
        let reg: Value = http
            .post(format!("{}/o/client/register", emu.base_url()))
            .header("content-type", "application/json")
            .header("x-device-info", device_info())
            .body(json!({ "software_statement": DEFAULT_SOFTWARE_STATEMENT }).to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let client_id = reg["client_id"].as_str().unwrap().to_string();
        let client_secret = reg["client_secret"].as_str().unwrap().to_string();
        let mut h = Self {
            emu,
            http,
            client_id,
            client_secret,
            token: String::new(),
            device: "device-1".into(),
        };
        h.token = h.new_token().await;
        h
    }

    pub async fn new_token(&self) -> String {
        let tok: Value = self
            .http
            .post(self.url("/o/client/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-device-info", device_info())
            .body(format!(
                "client_id={}&client_secret={}&grant_type=client_credentials",
                self.client_id, self.client_secret
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tok["access_token"].as_str().unwrap().to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url(), path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.with_headers(self.http.get(self.url(path)))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.with_headers(self.http.post(self.url(path)))
    }

    pub fn with_headers(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.bearer_auth(&self.token)
            .header("ap-device-identifier", device_id_header(&self.device))
            .header("x-device-info", device_info())
    }

    pub async fn form(&self, path: &str, body: &str) -> Response {
        self.post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    pub async fn decide(
        &self,
        kind: &str,
        mvpd: &str,
        resources: &[&str],
        identity: Option<&str>,
    ) -> Response {
        let mut rb = self
            .post(&format!("/api/v2/{SP}/decisions/{kind}/{mvpd}"))
            .header("content-type", "application/json")
            .body(json!({ "resources": resources }).to_string());
        if let Some(i) = identity {
            rb = rb.header("ap-temppass-identity", i);
        }
        rb.send().await.unwrap()
    }

    /// Creates a session for the MVPD and completes the user's login; returns the code.
    pub async fn login(&self, mvpd: &str) -> String {
        let r = self
            .form(
                &format!("/api/v2/{SP}/sessions"),
                &format!("mvpd={mvpd}&domainName=adobe.com&redirectUrl=https%3A%2F%2Fadobe.com"),
            )
            .await;
        let v: Value = r.json().await.unwrap();
        let code = v["code"].as_str().expect("code").to_string();
        self.emu
            .complete_authentication(&code, serde_json::Map::new())
            .unwrap();
        code
    }
}

pub async fn body(r: Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let v = r.json().await.unwrap_or(Value::Null);
    (s, v)
}
