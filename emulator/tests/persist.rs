//! The protocol state survives a save and a load; bad files are refused and left as they are.

mod common;

use common::*;
use serde_json::Value;
use tvpass_emulator::{Emulator, EmulatorConfig, StateError};

#[tokio::test]
async fn saved_state_serves_the_same_tokens_profiles_trials_and_clock() {
    let h = H::new().await;
    h.login("Cablevision").await;
    let (s, _) = body(
        h.decide("authorize", "TempPass_10min", &["news"], None)
            .await,
    )
    .await;
    assert_eq!(s, 200);
    h.emu.advance(std::time::Duration::from_secs(3600));
    let dir = std::env::temp_dir().join(format!("tvpass-persist-{}", std::process::id()));
    let path = dir.join("state.json");
    h.emu.save_state(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the user reads the file");
    }

    // A new emulator, on another port, with the saved state.
    let mut c = EmulatorConfig::default();
    c.throttling.enabled = false;
    let next = Emulator::start(c).await.unwrap();
    assert!(next.now_ms() < h.emu.now_ms() - 3_000_000);
    next.load_state(&path).unwrap();
    assert!(
        next.now_ms() >= h.emu.now_ms() - 1000,
        "the clock offset came back"
    );
    let moved = H { emu: next, ..h };
    let (s, v) = body(
        moved
            .get(&format!("/api/v2/{SP}/profiles"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "the old access token still works: {v}");
    assert_eq!(v["profiles"]["Cablevision"]["type"], "regular");
    let (_, v) = body(
        moved
            .decide("authorize", "Cablevision", &["news"], None)
            .await,
    )
    .await;
    assert_eq!(v["decisions"][0]["authorized"], true);
    // The TempPass trial started an hour ago: 10 minutes are long over.
    let (_, v) = body(
        moved
            .decide("authorize", "TempPass_10min", &["news"], None)
            .await,
    )
    .await;
    assert_eq!(
        v["decisions"][0]["error"]["code"],
        "temporary_access_duration_limit_exceeded"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn corrupt_or_newer_files_are_refused_and_kept() {
    let h = H::new().await;
    h.login("Cablevision").await;
    let dir = std::env::temp_dir().join(format!("tvpass-persist-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "corrupt.json",
            "{\"format\": 1, \"clients\": [tru".to_string(),
        ),
        ("noformat.json", "{}".to_string()),
        (
            "newer.json",
            "{\"format\": 99, \"whatever\": true}".to_string(),
        ),
    ];
    for (name, text) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &text).unwrap();
        let err = h.emu.load_state(&path).unwrap_err();
        match (&err, name) {
            (StateError::NewerFormat { found: 99, .. }, "newer.json") => {}
            (StateError::Corrupt { .. }, "corrupt.json" | "noformat.json") => {}
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("left as it is"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "the file is kept"
        );
        // The running state is untouched.
        let (s, v): (u16, Value) = body(
            h.get(&format!("/api/v2/{SP}/profiles"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (s, v["profiles"]["Cablevision"]["type"].as_str()),
            (200, Some("regular"))
        );
    }
    // A missing file is a fresh start.
    h.emu.load_state(&dir.join("missing.json")).unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
