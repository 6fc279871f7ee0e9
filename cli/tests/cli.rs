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
