//! `FileStorage` on disk: owner-only permissions, temporary files no one can plant, and writers
//! of one key that never mix their values.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tvpass::{FileStorage, Storage};

/// A directory of its own for each test, removed first.
fn fresh_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tvpass-storage-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn the_folder_and_its_files_are_owner_only() {
    let dir = fresh_dir("modes").join("nested");
    let storage = FileStorage::new(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    storage.set("tvpass.token", "{\"t\":1}").unwrap();
    storage.set("tvpass.token", "{\"t\":2}").unwrap();
    assert_eq!(mode(&dir.join("tvpass.token")), 0o600);
    assert_eq!(
        storage.get("tvpass.token").unwrap().as_deref(),
        Some("{\"t\":2}")
    );
    // Nothing but the value's file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["tvpass.token"]);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[cfg(unix)]
#[test]
fn an_existing_open_folder_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fresh_dir("tighten");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(mode(&dir), 0o755);
    let _storage = FileStorage::new(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn a_planted_symlink_is_never_followed() {
    let dir = fresh_dir("symlink");
    let storage = FileStorage::new(&dir).unwrap();
    let outside = fresh_dir("symlink-victim");
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    let victim_mode = mode(&victim);
    // Links at every fixed temporary name a writer could pick: the pid's, a bare `.tmp`, a
    // hidden one, and the key's own file.
    let planted = [
        format!("token.tmp{}", std::process::id()),
        "token.tmp".to_string(),
        ".token.tmp".to_string(),
        "token~".to_string(),
        "token".to_string(),
    ];
    for name in &planted {
        std::os::unix::fs::symlink(&victim, dir.join(name)).unwrap();
    }
    for i in 0..20 {
        storage.set("token", &format!("secret-{i}")).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    assert_eq!(
        mode(&victim),
        victim_mode,
        "the link's target keeps its permissions"
    );
    assert_eq!(storage.get("token").unwrap().as_deref(), Some("secret-19"));
    // The key's own link was replaced by the value's file, not written through.
    assert!(!std::fs::symlink_metadata(dir.join("token"))
        .unwrap()
        .file_type()
        .is_symlink());
    for name in &planted[..4] {
        assert!(
            std::fs::symlink_metadata(dir.join(name))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name} left as it was"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(outside);
}

#[test]
fn concurrent_writers_of_one_key_never_mix_their_values() {
    let dir = fresh_dir("concurrent");
    // Two stores over one folder, as two processes would have.
    let stores: Vec<Arc<FileStorage>> = (0..2)
        .map(|_| Arc::new(FileStorage::new(&dir).unwrap()))
        .collect();
    // Values of different lengths, each one character repeated: a mixed or torn value shows.
    let value = |writer: usize, round: usize| {
        let c = (b'a' + writer as u8) as char;
        c.to_string()
            .repeat(1000 + 37 * round + 4096 * (writer % 2))
    };
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let store = stores[w % 2].clone();
            std::thread::spawn(move || {
                for round in 0..40 {
                    store.set("shared", &value(w, round)).unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let store = stores[1].clone();
        std::thread::spawn(move || {
            let mut seen = 0;
            for _ in 0..400 {
                if let Some(v) = store.get("shared").unwrap() {
                    let first = v.as_bytes()[0];
                    assert!(v.bytes().all(|b| b == first), "a mixed value read");
                    seen += 1;
                }
            }
            seen
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    reader.join().unwrap();
    let last = stores[0].get("shared").unwrap().unwrap();
    let all: Vec<String> = (0..6)
        .flat_map(|w| (0..40).map(move |r| value(w, r)))
        .collect();
    assert!(all.contains(&last), "the value read back is one written");
    // No temporary file is left once the writers are done.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(dir);
}
