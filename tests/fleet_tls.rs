//! A fleet over `rediss://`: a `redis-server` serving TLS only, with a certificate of a test CA
//! (made here with `openssl`) that the SDK trusts through `SSL_CERT_FILE`, as the system's roots
//! are read. The fleet's values arrive, sealed, and nothing is sent in clear on the way.
#![cfg(feature = "redis")]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tvpass::{Environment, PassService};
use tvpass_emulator::{Emulator, DEFAULT_SOFTWARE_STATEMENT};

const KEY: &str = "q83vEjRWeJBxI0VniavN7/8SNFZ4kHEjRWeJq83vEjQ=";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl must be installed");
    assert!(ok.success(), "openssl {args:?}");
}

/// A CA and a certificate for `localhost` it signed, in `dir`.
fn certificates(dir: &std::path::Path) {
    let subj = |cn: &str| format!("/CN={cn}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            &subj("tvpass test CA"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            &subj("localhost"),
        ],
    );
    std::fs::write(dir.join("ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_reaches_redis_over_tls() {
    let dir = std::env::temp_dir().join(format!("tvpass-rediss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir);
    // The roots the SDK trusts are the system's; this process's system is the test CA.
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let _server = Server(
        Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
            ])
            .args([
                "--tls-cert-file",
                &p("server.pem"),
                "--tls-key-file",
                &p("server.key"),
            ])
            .args([
                "--tls-ca-cert-file",
                &p("ca.pem"),
                "--tls-auth-clients",
                "no",
            ])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server"),
    );
    let cli = |args: &[&str]| {
        Command::new("redis-cli")
            .args([
                "--tls",
                "--cacert",
                &p("ca.pem"),
                "-h",
                "localhost",
                "-p",
                &port.to_string(),
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let started = Instant::now();
    while !String::from_utf8_lossy(&cli(&["PING"]).stdout).contains("PONG") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "redis-server (TLS) did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let emu = Emulator::start(Default::default()).await.unwrap();
    let instance = || {
        PassService::builder()
            .environment(Environment::Custom(emu.base_url()))
            .service_provider("REF30")
            .software_statement(DEFAULT_SOFTWARE_STATEMENT)
            .redis(format!("rediss://localhost:{port}/0"))
            .fleet_key(KEY)
            .redis_timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    };
    let service = instance();
    service.warm_up().await.unwrap();
    assert_eq!(service.redis_reachable().await, Some(true));
    // The fleet's credentials and token arrived over TLS, sealed.
    let keys = String::from_utf8(cli(&["--scan"]).stdout).unwrap();
    assert!(
        keys.contains(":dcr:credentials") && keys.contains(":dcr:token"),
        "{keys}"
    );
    // A plain connection to the TLS port gets nothing.
    let plain = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "PING"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("PONG"));
    // A second instance, started fresh, finds them: one register and one token.
    instance().warm_up().await.unwrap();
    assert_eq!(emu.count("/o/client/register"), 1);
    assert_eq!(emu.count("/o/client/token"), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
