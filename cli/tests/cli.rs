//! The `tvpass` binary against its in-process emulator.

use std::process::Command;

fn tvpass(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tvpass"))
        .args(args)
        .output()
        .expect("run tvpass");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn exit_status_and_json_per_result() {
    let (code, out) = tvpass(&["--json", "configuration"]);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().any(|m| m["isTempPass"] == true));

    let (code, out) = tvpass(&["--json", "authorize", "--mvpd", "Cablevision", "news"]);
    assert_eq!(code, 3, "a Deny exits with 3");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["code"], "authenticated_profile_missing");

    let (code, out) = tvpass(&[
        "--json",
        "temppass",
        "--mvpd",
        "TempPass_Promo",
        "movies",
        "--identity",
        "Viewer@Example.com",
    ]);
    assert_eq!(code, 0);
    assert!(!out.to_lowercase().contains("viewer@example.com"));

    let (code, _) = tvpass(&["--base-url", "http://example.com", "configuration"]);
    assert_eq!(code, 1, "an error exits with 1");
}

#[test]
fn state_dir_keeps_the_login_between_runs_of_one_server() {
    let dir = std::env::temp_dir().join(format!("tvpass-cli-test-{}", std::process::id()));
    let (code, out) = tvpass(&[
        "--state-dir",
        dir.to_str().unwrap(),
        "--json",
        "login",
        "--mvpd",
        "Cablevision",
    ]);
    assert_eq!(code, 0, "{out}");
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["mvpd"], "Cablevision");
    assert!(
        std::fs::read_dir(&dir).unwrap().count() >= 3,
        "credentials, token, device id and profiles stored"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn partner_login_against_the_in_process_emulator() {
    let (code, out) = tvpass(&[
        "--json",
        "login",
        "--partner",
        "apple",
        "--mvpd",
        "Cablevision",
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(v["type"], "AppleSso");
    assert_eq!(v["issuer"], "Apple");
    // A provider only in the platform picker falls back to the basic flow.
    let (code, out) = tvpass(&[
        "--json",
        "login",
        "--partner",
        "apple",
        "--provider-id",
        "spectrum",
    ]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["partnerFallback"], "ConfigurationFallback");
    assert_eq!(lines.last().unwrap()["type"], "Regular");
    // Without --mvpd or --partner: bad usage.
    let (code, _) = tvpass(&["login"]);
    assert_eq!(code, 2);
}

/// `--subject-token`, `--service-token` and `--visitor-id` against one emulator across runs: a
/// login in one app is found by another app of the same identity.
#[test]
fn sso_options_share_a_login_between_runs() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(async {
        let mut c = tvpass_emulator::EmulatorConfig::default();
        c.throttling.enabled = false;
        tvpass_emulator::Emulator::start(c).await.unwrap()
    });
    let base = emu.base_url();
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGktdXNlciIsImV4cCI6NDAwMDAwMDAwMH0.c2ln";
    let common = |device: &str| -> Vec<String> {
        [
            "--base-url",
            &base,
            "--json",
            "--device-id",
            device,
            "--subject-token",
            token,
            "--service-token",
            token,
            "--visitor-id",
            "ecid-cli",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut login = Command::new(env!("CARGO_BIN_EXE_tvpass"))
        .args(common("first-app"))
        .args(["login", "--mvpd", "Cablevision"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(login.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let code = first["code"].as_str().unwrap();
    emu.complete_authentication(code, Default::default())
        .unwrap();
    assert!(login.wait().unwrap().success());

    let mut args = common("second-app");
    args.push("profiles".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, out) = tvpass(&args);
    assert_eq!(status, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["type"], "PlatformSso");
    let r = emu
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path == "/api/v2/REF30/profiles")
        .unwrap();
    assert_eq!(r.header("adobe-subject-token"), Some(token));
    assert_eq!(r.header("ad-service-token"), Some(token));
    assert_eq!(r.header("ap-visitor-identifier"), Some("ecid-cli"));
    drop(rt);
}
