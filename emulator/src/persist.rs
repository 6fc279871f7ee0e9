//! Saving and loading the emulator's protocol state (clients, tokens, sessions, profiles,
//! TempPass usage, single sign-on state and the clock), so that separate runs of a tool can
//! behave like one long-running server.
//!
//! The file is JSON with a `format` number. A file that is not valid, or that a newer emulator
//! wrote, is refused with a [`StateError`] and left as it is: nothing is lost.

use crate::state::{
    Client, PartnerRequest, PartnerResponse, Profile, Session, Shared, State, Token, Trial,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The format this emulator writes and reads.
pub const STATE_FORMAT: u32 = 1;

/// Why a state file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The file is not a state file this emulator understands (not JSON, fields missing).
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A newer emulator wrote the file.
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Its format.
        found: u64,
    },
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Io { path, reason } => {
                write!(f, "cannot use the state file {}: {reason}", path.display())
            }
            StateError::Corrupt { path, reason } => write!(
                f,
                "the state file {} is not valid ({reason}); it was left as it is: move it away or reset the state",
                path.display()
            ),
            StateError::NewerFormat { path, found } => write!(
                f,
                "the state file {} has format {found}, newer than this emulator's {STATE_FORMAT}; it was left as it is: update tvpass or reset the state",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StateError {}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    clock_offset_ms: i64,
    clients: HashMap<String, Client>,
    tokens: HashMap<String, Token>,
    sessions: HashMap<String, Session>,
    profiles: Vec<((String, String), BTreeMap<String, Profile>)>,
    trials: Vec<((String, String), Vec<Trial>)>,
    sso_profiles: Vec<((String, String), BTreeMap<String, Profile>)>,
    partner_requests: HashMap<String, PartnerRequest>,
    partner_responses: HashMap<String, PartnerResponse>,
}

/// The state as JSON text.
pub fn to_json(shared: &Shared) -> String {
    let s = shared.state();
    let snapshot = Snapshot {
        format: STATE_FORMAT,
        clock_offset_ms: shared.clock.offset_ms(),
        clients: s.clients.clone(),
        tokens: s.tokens.clone(),
        sessions: s.sessions.clone(),
        profiles: s.profiles.clone().into_iter().collect(),
        trials: s.trials.clone().into_iter().collect(),
        sso_profiles: s.sso_profiles.clone().into_iter().collect(),
        partner_requests: s.partner_requests.clone(),
        partner_responses: s.partner_responses.clone(),
    };
    serde_json::to_string(&snapshot).expect("the state serialises")
}

/// Replaces the state with the one in `text`; on error nothing changes.
pub fn from_json(shared: &Shared, text: &str, path: &Path) -> Result<(), StateError> {
    let corrupt = |reason: String| StateError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let format = value
        .get("format")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no format number".into()))?;
    if format > u64::from(STATE_FORMAT) {
        return Err(StateError::NewerFormat {
            path: path.to_path_buf(),
            found: format,
        });
    }
    let snapshot: Snapshot = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
    *shared.state() = State {
        clients: snapshot.clients,
        tokens: snapshot.tokens,
        sessions: snapshot.sessions,
        profiles: snapshot.profiles.into_iter().collect(),
        trials: snapshot.trials.into_iter().collect(),
        sso_profiles: snapshot.sso_profiles.into_iter().collect(),
        partner_requests: snapshot.partner_requests,
        partner_responses: snapshot.partner_responses,
    };
    shared.clock.set_offset_ms(snapshot.clock_offset_ms);
    Ok(())
}

/// Loads a state file; a missing file leaves the fresh state.
pub fn load(shared: &Shared, path: &Path) -> Result<(), StateError> {
    match std::fs::read_to_string(path) {
        Ok(text) => from_json(shared, &text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StateError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

/// Saves the state: written beside the file, then renamed over it, so that a crash never
/// leaves half a file. Readable by the user only (it holds client secrets and tokens).
pub fn save(shared: &Shared, path: &Path) -> Result<(), StateError> {
    let io = |e: std::io::Error| StateError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(io)?;
        f.write_all(to_json(shared).as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
