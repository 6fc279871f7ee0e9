//! The bindings' records print no secret, and the app's storage failures reach the app.

use super::config::SecretText;
use super::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const STATEMENT: &str = "statement-S3CRET-1";
const DEVICE_ID: &str = "device-S3CRET-2";
const BEARER: &str = "Bearer token-S3CRET-3";
const ACCESS_TOKEN: &str = "token-S3CRET-4";
const MEDIA_TOKEN: &str = "media-S3CRET-5";
const USER_ID: &str = "user-S3CRET-6";
const SECRETS: [&str; 6] = [
    STATEMENT,
    DEVICE_ID,
    BEARER,
    ACCESS_TOKEN,
    MEDIA_TOKEN,
    USER_ID,
];

fn secret(s: &str) -> SecretText {
    s.to_string().into()
}

fn config() -> ClientConfig {
    ClientConfig {
        base_url: "https://api.auth.adobe.com".into(),
        service_provider: "REF30".into(),
        software_statement: secret(STATEMENT),
        device_info: DeviceInfo::default(),
        device_id: Some(secret(DEVICE_ID)),
        polling_interval_seconds: None,
        max_attempts: None,
        request_timeout_ms: None,
        pace_requests: None,
        domain_name: None,
        redirect_url: None,
    }
}

#[test]
fn no_ffi_type_prints_a_secret() {
    let config = config();
    let header = HttpHeader {
        name: "authorization".into(),
        value: secret(BEARER),
    };
    let response = HttpResponse {
        status: 200,
        headers: vec![header.clone()],
        body: format!("{{\"access_token\":\"{ACCESS_TOKEN}\"}}").into_bytes(),
    };
    let mut headers = crate::http::HeaderMap::new();
    headers.insert("authorization", BEARER.parse().unwrap());
    let request = HttpRequest::new(crate::http::HttpRequest {
        method: crate::http::Method::POST,
        url: format!("https://api.auth.adobe.com/api/v2/REF30/sessions?ap={DEVICE_ID}")
            .parse()
            .unwrap(),
        headers,
        body: Some(format!("client_secret={ACCESS_TOKEN}").into()),
        timeout: std::time::Duration::from_secs(1),
        max_response_bytes: 1024,
    });
    let parts = request.parts();
    let listed = request.headers();
    let media_token = MediaToken {
        serialized: secret(MEDIA_TOKEN),
        not_before_ms: 1,
        not_after_ms: 2,
    };
    let decision = Decision::Permit {
        resource: "news".into(),
        mvpd: "Cablevision".into(),
        source: "mvpd".into(),
        media_token: Some(media_token.clone()),
        not_after_ms: Some(2),
    };
    let attribute = Attribute {
        value: secret(USER_ID),
        encrypted: false,
    };
    let profile = Profile {
        mvpd: "Cablevision".into(),
        not_before_ms: 1,
        not_after_ms: 2,
        issuer: "Cablevision".into(),
        profile_type: ProfileType::Regular,
        attributes: HashMap::from([("userID".to_string(), attribute.clone())]),
        temp_pass: None,
    };
    let texts = [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!(
            "{:?} {}",
            config.software_statement, config.software_statement
        ),
        format!("{header:?} {}", header.value),
        format!("{listed:?}"),
        format!("{response:?}"),
        format!("{request:?}"),
        format!("{parts:?}"),
        format!("{media_token:?} {}", media_token.serialized),
        format!("{decision:?}"),
        format!("{attribute:?} {}", attribute.value),
        format!("{profile:?}"),
        format!("{profile:#?}"),
    ];
    for text in &texts {
        for s in SECRETS {
            assert!(!text.contains(s), "{s} printed in {text}");
        }
    }
    // The values are there for whoever asks for them.
    assert_eq!(config.software_statement.0, STATEMENT);
    assert!(listed.iter().any(|h| h.value.0 == BEARER));
}

/// A store whose every call fails (as a locked Keychain does), remembering what it was given.
#[derive(Default)]
struct Locked {
    failures: Mutex<u32>,
    written: Mutex<Vec<String>>,
}

impl Locked {
    fn fail<T>(&self) -> Result<T, StorageError> {
        *self.failures.lock().unwrap() += 1;
        Err(StorageError::Unavailable {
            reason: "errSecInteractionNotAllowed (-25308)".into(),
        })
    }
}

impl Storage for Locked {
    fn get(&self, _: String) -> Result<Option<String>, StorageError> {
        self.fail()
    }
    fn set(&self, _: String, value: String) -> Result<(), StorageError> {
        self.written.lock().unwrap().push(value);
        self.fail()
    }
    fn remove(&self, _: String) -> Result<(), StorageError> {
        self.fail()
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_storage_is_logged_once_per_failure_and_reaches_the_app() {
    let logs = Capture::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let store = Arc::new(Locked::default());
    let mut config = config();
    config.device_id = None; // generated: not written over the id the store could not read
    let client = PassClient::new(config, Some(store.clone()), None, None)
        .expect("a failing storage does not fail the client");
    let failures = *store.failures.lock().unwrap();
    assert!(failures >= 1, "the client read at build time: {failures}");
    assert!(
        store.written.lock().unwrap().is_empty(),
        "a key whose read failed was written over"
    );
    assert_eq!(
        client.last_storage_error(),
        Some(StorageError::Unavailable {
            reason: "errSecInteractionNotAllowed (-25308)".into()
        })
    );
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("-25308")).collect();
    assert_eq!(lines.len() as u32, failures, "one line per failure: {text}");
    assert!(lines.iter().all(|l| l.contains("WARN")), "{text}");
    for value in store.written.lock().unwrap().iter() {
        assert!(
            !text.contains(value.trim_matches('"')),
            "a stored value logged: {text}"
        );
    }
    // Without a storage of the app's, there is nothing to report.
    let plain = PassClient::new(self::config(), None, None, None).unwrap();
    assert_eq!(plain.last_storage_error(), None);
}
