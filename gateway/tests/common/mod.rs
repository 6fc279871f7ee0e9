//! The `tvpass-gateway` binary as operators run it, for the process and attack suites: started
//! with an environment of the test's own, its addresses read from what it prints.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tvpass_emulator::{Emulator, DEFAULT_SOFTWARE_STATEMENT};

/// The key that signs the test gateways' device tokens.
pub const DEVICE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// One `tvpass-gateway` process, stopped with SIGTERM when dropped.
pub struct GatewayProcess {
    pub child: Child,
    pub url: String,
    pub admin: String,
}

impl GatewayProcess {
    /// Starts the binary against `emu` with `env`, the load balancer in front being the test
    /// itself (loopback is a trusted proxy), and waits for the addresses it serves on.
    pub fn start(emu: &Emulator, env: &[(&str, String)]) -> Self {
        Self::start_with(Self::command(emu), env)
    }

    /// The binary against `emu`, with every required setting and both listeners on free ports.
    pub fn command(emu: &Emulator) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tvpass-gateway"));
        c.env_clear()
            .env("TVPASS_BASE_URL", emu.base_url())
            .env("TVPASS_SERVICE_PROVIDER", "REF30")
            .env("TVPASS_SOFTWARE_STATEMENT", DEFAULT_SOFTWARE_STATEMENT)
            .env("GATEWAY_DEVICE_KEY", DEVICE_KEY)
            .env("GATEWAY_ADDR", "127.0.0.1:0")
            .env("GATEWAY_ADMIN_ADDR", "127.0.0.1:0")
            // The test stands in for the load balancer in front: its X-Forwarded-For counts.
            .env("GATEWAY_TRUSTED_PROXIES", "127.0.0.1");
        c
    }

    /// Starts `command` with `env` added.
    pub fn start_with(mut command: Command, env: &[(&str, String)]) -> Self {
        let mut child = command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut admin = None;
        let url = loop {
            let line = lines
                .next()
                .expect("the gateway stopped before serving")
                .unwrap();
            if let Some(url) = line.strip_prefix("Admin (metrics, health) at ") {
                admin = Some(url.to_string());
            }
            if let Some(url) = line.strip_prefix("Gateway for devices at ") {
                break url.to_string();
            }
        };
        Self {
            child,
            url,
            admin: admin.expect("the admin listener is announced first"),
        }
    }

    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.terminate();
        let _ = self.child.wait();
    }
}

/// The address of a gateway URL (`http://127.0.0.1:port`).
pub fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// One HTTP/1.1 exchange on a connection of its own, written by hand (a caller that forges
/// what a client library would not): the status and the body.
pub fn raw(url: &str, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr(url)).unwrap();
    raw_on(&mut s, request)
}

/// One exchange on `s`, which the request asks to close.
pub fn raw_on(s: &mut TcpStream, request: &str) -> (u16, String) {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
