//! The `tvpass` binary against its in-process emulator, and against an emulator of the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A state directory of its own for each call site.
fn fresh_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tvpass-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `tvpass` with this state directory: (exit status, stdout, stderr).
fn tvpass_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tvpass"))
        .env("TVPASS_STATE_DIR", dir)
        .args(args)
        .output()
        .expect("run tvpass");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An emulator of the test (throttling off) and the runtime that serves it.
fn test_emulator() -> (tokio::runtime::Runtime, tvpass_emulator::Emulator) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(async {
        let mut c = tvpass_emulator::EmulatorConfig::default();
        c.throttling.enabled = false;
        tvpass_emulator::Emulator::start(c).await.unwrap()
    });
    (rt, emu)
}

/// Runs `tvpass` with a fresh state directory.
fn tvpass(args: &[&str]) -> (i32, String) {
    let (code, out, _) = tvpass_in(&fresh_dir(), args);
    (code, out)
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
fn an_explicit_state_dir_is_used() {
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
        std::fs::read_dir(dir.join("emulator")).unwrap().count() >= 4,
        "credentials, token, device id, profiles and the emulator's state stored"
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
    let (rt, emu) = test_emulator();
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

/// The CLI guide's journey (docs/cli.md) as separate processes against the default emulator: its state and the
/// SDK's are kept in the state directory between runs.
#[test]
fn separate_commands_share_the_default_emulator_state() {
    let dir = fresh_dir();
    let run = |args: &[&str]| tvpass_in(&dir, args);

    let (code, out, err) = run(&["login", "--mvpd", "Cablevision"]);
    assert_eq!(code, 0, "{out}{err}");
    let done = out.lines().last().unwrap();
    assert!(
        done.starts_with("logged in with Cablevision until 20"),
        "{done}"
    );
    assert!(
        done.ends_with("(in 29 d 23 h)"),
        "local date and time left: {done}"
    );
    assert!(
        !err.contains('⠋'),
        "no countdown when stderr is not a terminal"
    );

    let (code, out, _) = run(&["profiles"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Cablevision\tRegular\tuntil 20"), "{out}");
    let (code, out, _) = run(&[
        "preauthorize",
        "--mvpd",
        "Cablevision",
        "news",
        "late-night",
    ]);
    assert_eq!(code, 3, "one Deny: {out}");
    assert!(out.contains("news: permit") && out.contains("late-night: deny ParentalControls"));
    let (code, out, _) = run(&["--json", "authorize", "--mvpd", "Cablevision", "news"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["decision"], "permit");
    assert!(
        v["mediaToken"]["notAfter"].as_i64().unwrap() > 1_700_000_000_000,
        "JSON keeps ms"
    );
    let (code, out, _) = run(&["logout", "--mvpd", "Cablevision"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("open https://login.cablevision.example/logout"),
        "{out}"
    );
    let (code, out, _) = run(&["authorize", "--mvpd", "Cablevision", "news"]);
    assert_eq!(code, 3);
    assert!(out.contains("deny ProfileMissing"), "{out}");

    // One registration for the whole journey: the credentials and the emulator's client stayed.
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("emulator/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["clients"].as_object().unwrap().len(), 1);

    // TempPass usage and the login survive too; a reset forgets them.
    let (code, _, _) = run(&["login", "--mvpd", "Spectrum"]);
    assert_eq!(code, 0);
    let (code, out, _) = run(&["emulator", "reset"]);
    assert_eq!(code, 0, "{out}");
    assert!(!dir.join("emulator").exists());
    let (code, out, _) = run(&["authorize", "--mvpd", "Spectrum", "news"]);
    assert_eq!(code, 3, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_emulator_state_is_refused_and_kept() {
    let dir = fresh_dir();
    std::fs::create_dir_all(dir.join("emulator")).unwrap();
    let file = dir.join("emulator/state.json");
    std::fs::write(&file, "{\"format\": 1, \"clients\": ").unwrap();
    let (code, _, err) = tvpass_in(&dir, &["profiles"]);
    assert_eq!(code, 1);
    assert!(err.contains("left as it is"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"format\": 1, \"clients\": "
    );
    std::fs::write(&file, "{\"format\": 7}").unwrap();
    let (code, _, err) = tvpass_in(&dir, &["profiles"]);
    assert_eq!(code, 1);
    assert!(err.contains("format 7"), "{err}");
    let (code, _, _) = tvpass_in(&dir, &["emulator", "reset"]);
    assert_eq!(code, 0);
    let (code, _, _) = tvpass_in(&dir, &["profiles"]);
    assert_eq!(code, 0, "a reset starts over");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out) = tvpass(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(
            out.contains("tvpass") && out.contains("authorize"),
            "{shell}"
        );
    }
    let (code, _) = tvpass(&["completions", "tcsh"]);
    assert_eq!(code, 2, "an unknown shell is bad usage");
}

#[test]
fn doctor_passes_a_good_integration_and_explains_failures() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(async {
        tvpass_emulator::Emulator::start(Default::default())
            .await
            .unwrap()
    });
    let base = emu.base_url();
    let (code, out) = tvpass(&["--base-url", &base, "doctor"]);
    assert_eq!(code, 0, "{out}");
    for check in [
        "reach the service",
        "clock",
        "registration and token",
        "configuration",
        "throttling headroom",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(check))
            .unwrap_or_else(|| panic!("{check}: {out}"));
        assert!(line.contains("PASS"), "{line}");
    }
    assert!(out.contains("4 MVPDs (2 TempPass"), "{out}");

    // A wrong software statement: the failing check names the fix; nothing secret is printed.
    let (code, out) = tvpass(&[
        "--base-url",
        &base,
        "--json",
        "--software-statement",
        "not-the-statement",
        "doctor",
    ]);
    assert_eq!(code, 1);
    let checks: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reg = checks
        .iter()
        .find(|c| c["check"] == "registration and token")
        .unwrap();
    assert_eq!(reg["ok"], false);
    assert!(reg["fix"].as_str().unwrap().contains("TVE Dashboard"));
    assert!(!out.contains("not-the-statement"));
    // A wrong service provider.
    let (code, out) = tvpass(&["--base-url", &base, "--service-provider", "NOPE", "doctor"]);
    assert_eq!(code, 1, "{out}");
    // An address where nothing listens.
    let (code, out) = tvpass(&["--base-url", "http://127.0.0.1:9", "doctor"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("reach the service") && out.contains("fix:"),
        "{out}"
    );
    // doctor needs a server.
    let (code, _) = tvpass(&["doctor"]);
    assert_eq!(code, 1);
    drop(emu);
    drop(rt);
}

/// `tvpass profiles` asks the service: with a platform identity, the profile another app of the
/// same identity created appears beside the device's own; `--cached` shows the device's cache.
#[test]
fn profiles_shows_the_service_and_cached_shows_the_device() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let (rt, emu) = test_emulator();
    let base = emu.base_url();
    let dir = fresh_dir();
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJob3VzZWhvbGQtNyIsImV4cCI6NDAwMDAwMDAwMH0.c2ln";
    let login = |device: &str, sso: bool, mvpd: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tvpass"));
        cmd.env(
            "TVPASS_STATE_DIR",
            if sso { fresh_dir() } else { dir.clone() },
        )
        .args(["--base-url", &base, "--json", "--device-id", device]);
        if sso {
            cmd.args(["--subject-token", token]);
        }
        let mut child = cmd
            .args(["login", "--mvpd", mvpd])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: serde_json::Value =
            serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        emu.complete_authentication(first["code"].as_str().unwrap(), Default::default())
            .unwrap();
        assert!(child.wait().unwrap().success());
    };
    let profiles = |args: &[&str]| -> Vec<(String, String)> {
        let mut all = vec!["--base-url", &base, "--json", "--device-id", "this-device"];
        all.extend_from_slice(args);
        let (code, out, err) = tvpass_in(&dir, &all);
        assert_eq!(code, 0, "{out}{err}");
        out.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| {
                (
                    v["mvpd"].as_str().unwrap().to_string(),
                    v["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };

    // This device logged in to Spectrum itself; another app of the household to Cablevision.
    login("this-device", false, "Spectrum");
    login("the-other-app", true, "Cablevision");
    let own = vec![("Spectrum".to_string(), "Regular".to_string())];
    assert_eq!(profiles(&["profiles", "--cached"]), own);
    emu.clear_requests();
    assert_eq!(
        profiles(&["--subject-token", token, "profiles"]),
        vec![
            ("Cablevision".to_string(), "PlatformSso".to_string()),
            ("Spectrum".to_string(), "Regular".to_string())
        ]
    );
    let asked: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v2/REF30/profiles")
        .collect();
    assert_eq!(asked.len(), 1, "profiles asks the service");
    assert_eq!(asked[0].header("adobe-subject-token"), Some(token));
    // Without the identity the service has only the device's own.
    assert_eq!(profiles(&["profiles"]), own);
    drop(rt);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Against a server, partner login needs the framework's expiration date; the emulated partner
/// supplies one, and `--partner-expiry` sets it.
#[test]
fn partner_login_sends_the_framework_expiry() {
    let (rt, emu) = test_emulator();
    let base = emu.base_url();
    let login = [
        "--base-url",
        &base,
        "login",
        "--partner",
        "apple",
        "--mvpd",
        "Cablevision",
    ];
    let (code, _, err) = tvpass_in(&fresh_dir(), &login);
    assert_eq!(code, 1);
    assert!(err.contains("partner_expiry"), "{err}");
    let expiry = (emu.now_ms() + 3_600_000).to_string();
    let with_expiry = [&login[..], &["--partner-expiry", &expiry]].concat();
    tvpass_in(&fresh_dir(), &with_expiry);
    let sent = emu
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v2/REF30/sessions/sso/Apple")
        .expect("the partner session was asked");
    use base64::Engine;
    let json: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(sent.header("ap-partner-framework-status").unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        json["frameworkProviderInfo"]["expirationDate"],
        expiry.as_str()
    );
    drop(rt);
}

/// Runs `tvpass` with no state directory given, in the environment `vars` (the per-user
/// variables removed first) and a temporary directory of its own: (status, stdout, stderr).
fn tvpass_without_state_dir(
    tmp: &Path,
    vars: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tvpass"));
    for k in ["TVPASS_STATE_DIR", "XDG_DATA_HOME", "HOME", "APPDATA"] {
        cmd.env_remove(k);
    }
    cmd.env("TMPDIR", tmp).env("TMP", tmp).env("TEMP", tmp);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("run tvpass");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn without_a_per_user_directory_the_state_dir_is_required_not_tmp() {
    let tmp = fresh_dir();
    std::fs::create_dir_all(&tmp).unwrap();
    for vars in [
        &[][..],
        &[("HOME", ""), ("XDG_DATA_HOME", "")][..],
        &[
            ("HOME", "relative/home"),
            ("XDG_DATA_HOME", "relative/data"),
        ][..],
    ] {
        for args in [&["configuration"][..], &["emulator", "path"][..]] {
            let (code, out, err) = tvpass_without_state_dir(&tmp, vars, args);
            assert_eq!(code, 1, "{vars:?} {args:?}: {out}{err}");
            assert!(
                err.starts_with(
                    "error: invalid configuration: state_dir: no per-user data directory"
                ) && err.contains("--state-dir DIR or set TVPASS_STATE_DIR"),
                "{err}"
            );
            assert!(!out.contains("tvpass"), "no path printed: {out}");
        }
    }
    let (code, out, _) = tvpass_without_state_dir(&tmp, &[], &["--json", "emulator", "path"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["error"].as_str().unwrap().contains("state_dir"), "{v}");
    // Nothing was written to the temporary directory.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);

    // With a home, its data directory; XDG_DATA_HOME first when absolute.
    let home = tmp.join("home");
    let (code, out, _) = tvpass_without_state_dir(
        &tmp,
        &[("HOME", home.to_str().unwrap())],
        &["emulator", "path"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        home.join(".local/share/tvpass/emulator").to_str().unwrap()
    );
    let data = tmp.join("data");
    let (code, out, _) = tvpass_without_state_dir(
        &tmp,
        &[
            ("HOME", home.to_str().unwrap()),
            ("XDG_DATA_HOME", data.to_str().unwrap()),
        ],
        &["emulator", "path"],
    );
    assert_eq!(code, 0);
    assert_eq!(out.trim(), data.join("tvpass/emulator").to_str().unwrap());
    // An explicit but empty flag or variable is bad usage, not the default.
    for (vars, args) in [
        (&[][..], &["--state-dir", "", "emulator", "path"][..]),
        (&[("TVPASS_STATE_DIR", "")][..], &["emulator", "path"][..]),
    ] {
        let (code, _, err) = tvpass_without_state_dir(&tmp, vars, args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--state-dir"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn mrss_resources_go_through_authorize_preauthorize_and_temppass() {
    let dir = fresh_dir();
    let run = |args: &[&str]| tvpass_in(&dir, args);
    // The decisions page's second form: a channel with a rating, on several lines.
    let rated = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n  \
                 <channel>\n    <title>REF30</title>\n    \
                 <media:rating scheme=\"urn:mpaa\">pg</media:rating>\n  </channel>\n</rss>";
    // An episode: an item with its guid and a v-chip rating (289 bytes).
    let episode = format!(
        "{}{}",
        "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n<channel>\n\
         <title>REF30</title>\n<item>\n<title>The Pilot</title>\n\
         <guid isPermaLink=\"false\">urn:ref30:series:1:episode:1</guid>\n\
         <media:rating scheme=\"urn:v-chip\">tv-14</media:rating>\n</item>\n</channel>\n</rss>",
        " ".repeat(289 - 269)
    );
    assert_eq!(episode.len(), 289);
    let (code, out, err) = run(&["login", "--mvpd", "Cablevision"]);
    assert_eq!(code, 0, "{out}{err}");
    for resource in [rated, episode.as_str()] {
        let (code, out, err) = run(&["--json", "authorize", "--mvpd", "Cablevision", resource]);
        assert_eq!(code, 0, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["decision"], "permit");
        assert_eq!(v["resource"], resource, "kept whole in JSON");
    }
    // One line a decision for people, the MRSS folded onto it.
    let (code, out, _) = run(&["preauthorize", "--mvpd", "Cablevision", rated, &episode]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("<rss version=\"2.0\" xmlns:media=") && lines[0].ends_with(": permit")
    );
    let (code, out, _) = run(&["--json", "temppass", "--mvpd", "TempPass_10min", rated]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = run(&["authorize", "--mvpd", "Cablevision", &"x".repeat(8193)]);
    assert_eq!(code, 1);
    assert!(err.contains("resource"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_device_clock_an_hour_or_a_day_off_still_logs_in() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let (rt, emu) = test_emulator();
    let base = emu.base_url();
    const HOUR: i64 = 3_600_000;
    for device_offset in [HOUR, 24 * HOUR, -HOUR, -24 * HOUR] {
        emu.set_clock_skew(-device_offset);
        let dir = fresh_dir();
        let mut login = Command::new(env!("CARGO_BIN_EXE_tvpass"))
            .env("TVPASS_STATE_DIR", &dir)
            .args([
                "--base-url",
                &base,
                "--json",
                "login",
                "--mvpd",
                "Cablevision",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(login.stdout.take().unwrap()).lines();
        let first: serde_json::Value =
            serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        emu.complete_authentication(first["code"].as_str().unwrap(), Default::default())
            .unwrap();
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        assert!(
            login.wait().unwrap().success(),
            "{device_offset} ms: {rest:?}"
        );
        let (code, out, err) = tvpass_in(
            &dir,
            &[
                "--base-url",
                &base,
                "--json",
                "authorize",
                "--mvpd",
                "Cablevision",
                "news",
            ],
        );
        assert_eq!(code, 0, "{device_offset} ms: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["decision"], "permit");
        let _ = std::fs::remove_dir_all(&dir);
    }
    drop(rt);
}
