//! The exchange record the contract tests read. With `TVPASS_EMULATOR_EXCHANGES` naming a
//! directory, every exchange on the service's paths (never the admin API) is appended as one JSON
//! line to a file of that directory: one file per process, shared by every emulator it starts.
//!
//! A line holds the method, the path and the query; the request's header names, with the values
//! of `Content-Type`, `Accept` and `User-Agent` only; the request body; the status; the answer's
//! `Content-Type` and body; and the fault that was injected, if any. Secrets the exchanges carry
//! (client secrets, software statements, tokens, SAML responses) are replaced by `"<redacted>"`,
//! which keeps their JSON type for the schemas.
//!
//! `TVPASS_EMULATOR_SUITE` names the suite in each line; by default it is the Cargo package and
//! the test binary that run the emulator (`CARGO_PKG_NAME`, set by `cargo test`).

use crate::faults::Fault;
use crate::state::LoggedRequest;
use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// The variable naming the directory of the record.
pub const DIR_ENV: &str = "TVPASS_EMULATOR_EXCHANGES";
/// The variable naming the suite in each line.
pub const SUITE_ENV: &str = "TVPASS_EMULATOR_SUITE";

/// Keys whose string values are secrets, in bodies and forms.
const SECRET_KEYS: [&str; 6] = [
    "client_secret",
    "software_statement",
    "access_token",
    "serializedToken",
    "SAMLResponse",
    "refresh_token",
];

/// Request headers whose values are recorded; of the others, only the names.
const KEPT_HEADER_VALUES: [&str; 3] = ["content-type", "accept", "user-agent"];

/// The process's record, when `TVPASS_EMULATOR_EXCHANGES` is set.
pub struct Recorder {
    suite: String,
    file: Mutex<std::fs::File>,
}

/// The process's recorder: opened on first use, `None` without the variable or when the file
/// cannot be opened (the emulator then serves as usual and says so once).
pub fn recorder() -> Option<&'static Recorder> {
    static RECORDER: OnceLock<Option<Recorder>> = OnceLock::new();
    RECORDER.get_or_init(Recorder::from_env).as_ref()
}

impl Recorder {
    fn from_env() -> Option<Self> {
        let dir = std::path::PathBuf::from(std::env::var_os(DIR_ENV)?);
        let suite = std::env::var(SUITE_ENV).unwrap_or_else(|_| {
            let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "emulator".into());
            let exe = std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_default();
            // Test binaries are named <target>-<hash>.
            let target = exe.rsplit_once('-').map_or(exe.as_str(), |(t, _)| t);
            format!("{package}/{target}")
        });
        let name = format!(
            "{}-{}.jsonl",
            suite.replace(['/', '\\', ' '], "_"),
            std::process::id()
        );
        let opened = std::fs::create_dir_all(&dir).and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(name))
        });
        match opened {
            Ok(file) => Some(Self {
                suite,
                file: Mutex::new(file),
            }),
            Err(e) => {
                tracing::warn!("{DIR_ENV}: cannot open the exchange record: {e}");
                None
            }
        }
    }

    /// Records one exchange and gives back the answer (its body read and put back).
    pub async fn record(
        &self,
        request: &LoggedRequest,
        fault: Option<&Fault>,
        response: Response,
    ) -> Response {
        let (parts, body) = response.into_parts();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // Faults that break the answer on purpose (a dropped connection, a cut or oversized
        // body, ...) go back untouched, without their body: the contract tests leave them out.
        let service_like = matches!(
            fault,
            None | Some(Fault::Throttle | Fault::Delay { .. } | Fault::Status { .. })
        );
        let (body, recorded) = if !service_like {
            (body, Value::Null)
        } else {
            match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => {
                    let recorded = body_value(content_type.as_deref(), &bytes);
                    (Body::from(bytes), recorded)
                }
                Err(_) => (Body::empty(), Value::Null),
            }
        };
        let request_type = request.header("content-type");
        let line = json!({
            "suite": self.suite,
            "method": request.method,
            "path": request.path,
            "query": request.query.as_deref().map(form_value),
            "request": {
                "headers": request_headers(request),
                "body": if request.body.is_empty() {
                    Value::Null
                } else {
                    body_value(request_type, request.body.as_bytes())
                },
            },
            "status": parts.status.as_u16(),
            "response": {
                "content_type": content_type,
                "body": recorded,
            },
            "fault": fault.map(fault_kind),
        });
        if let Ok(mut text) = serde_json::to_vec(&line) {
            text.push(b'\n');
            let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
            // One write per line: lines of concurrent emulators never interleave.
            let _ = file.write_all(&text);
        }
        Response::from_parts(parts, body)
    }
}

fn request_headers(request: &LoggedRequest) -> Value {
    let mut out = Map::new();
    for (name, value) in &request.headers {
        let kept = KEPT_HEADER_VALUES.contains(&name.as_str());
        out.insert(
            name.clone(),
            Value::String(if kept {
                value.clone()
            } else {
                "<present>".into()
            }),
        );
    }
    Value::Object(out)
}

/// A body as JSON (when it parses as JSON), as a form's fields (a form body), else as text.
fn body_value(content_type: Option<&str>, bytes: &[u8]) -> Value {
    let media = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media == "application/x-www-form-urlencoded" {
        return form_value(&String::from_utf8_lossy(bytes));
    }
    let mut value = serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()));
    redact(&mut value);
    value
}

/// A query or form body as an object of its fields (the last value of a repeated field wins).
fn form_value(text: &str) -> Value {
    let mut out = Map::new();
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        out.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    let mut value = Value::Object(out);
    redact(&mut value);
    value
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if SECRET_KEYS.contains(&k.as_str()) && v.is_string() {
                    *v = Value::String("<redacted>".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn fault_kind(fault: &Fault) -> Value {
    serde_json::to_value(fault)
        .ok()
        .and_then(|v| v.get("kind").cloned())
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_keep_their_type() {
        let v = body_value(
            Some("application/json"),
            br#"{"client_secret":"s","nested":{"access_token":"t"},"n":1,"list":[{"serializedToken":"m"}]}"#,
        );
        assert_eq!(v["client_secret"], "<redacted>");
        assert_eq!(v["nested"]["access_token"], "<redacted>");
        assert_eq!(v["list"][0]["serializedToken"], "<redacted>");
        assert_eq!(v["n"], 1);
        let form = body_value(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            b"client_id=a&client_secret=b&grant_type=client_credentials",
        );
        assert_eq!(form["client_id"], "a");
        assert_eq!(form["client_secret"], "<redacted>");
        assert_eq!(form["grant_type"], "client_credentials");
    }

    #[test]
    fn a_body_that_is_not_json_is_kept_as_text() {
        assert_eq!(
            body_value(Some("text/html"), b"<html></html>"),
            Value::String("<html></html>".into())
        );
    }
}
