//! Property tests of every response decoder (arbitrary bytes and arbitrary JSON: a typed value
//! or a typed error, never a panic), and the response size cap against a server that announces
//! or streams more than the cap.

use proptest::prelude::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tvpass::{decoders, DeviceInfo, Environment, PassClient, PassError, RateLimit, RetryPolicy};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "[a-zA-Z0-9_ ]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("profiles"),
            Just("decisions"),
            Just("logouts"),
            Just("requestor"),
            Just("mvpds"),
            Just("notAfter"),
            Just("code"),
            Just("authorized"),
            Just("token"),
            Just("error"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("profiles"),
            Just("decisions"),
            Just("logouts"),
            Just("requestor"),
            Just("mvpds"),
            Just("id"),
            Just("notAfter"),
            Just("notBefore"),
            Just("code"),
            Just("authorized"),
            Just("token"),
            Just("error"),
            Just("resource"),
            Just("attributes"),
            Just("value"),
            Just("actionName"),
            Just("url"),
            Just("serializedToken"),
            Just("status"),
            Just("x"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.prop_map(str::to_string), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn decode_all(bytes: &[u8]) {
    let _ = decoders::configuration(bytes);
    let _ = decoders::session(bytes);
    let _ = decoders::profiles(bytes);
    let _ = decoders::decisions(bytes);
    let _ = decoders::logout(bytes);
    let _ = decoders::enhanced_error(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_take_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn decoders_take_arbitrary_json(v in arb_json()) {
        decode_all(v.to_string().as_bytes());
    }

    #[test]
    fn decoders_take_near_valid_answers(n in any::<i64>(), s in "[ -~]{0,20}", b in any::<bool>()) {
        let answers = [
            json!({"decisions": [{"resource": s, "authorized": b, "token": {"serializedToken": s, "notAfter": n}, "notAfter": s}]}),
            json!({"profiles": {s.clone(): {"notAfter": s, "notBefore": n, "type": s, "attributes": {"used_assets": {"value": [n], "state": "plain"}, "remaining_resources": {"value": s}}}}}),
            json!({"actionName": s, "code": s, "notAfter": s, "notBefore": n, "missingParameters": [s]}),
            json!({"logouts": {s.clone(): {"actionName": "logout", "url": s}}}),
            json!({"requestor": {"id": s, "mvpds": [{"id": s, "isTempPass": b}]}}),
            json!({"code": s, "status": n, "action": s}),
        ];
        for a in answers {
            decode_all(a.to_string().as_bytes());
        }
    }
}

#[test]
fn timestamps_as_numbers_or_strings_and_unknown_codes_decode() {
    let s = decoders::session(br#"{"actionName":"authenticate","reasonType":"none","code":"X","sessionId":"s","notBefore":"1733735289035","notAfter":1733737089035.0}"#).unwrap();
    assert_eq!(
        (s.not_before_ms, s.not_after_ms),
        (Some(1733735289035), Some(1733737089035))
    );
    let d = decoders::decisions(br#"{"decisions":[{"resource":"r","authorized":false,"error":{"code":"brand_new_code","status":403,"action":"none","message":"m"}}]}"#).unwrap();
    match &d[0] {
        tvpass::Decision::Deny { reason, .. } => {
            assert_eq!(reason, &tvpass::DenyReason::Other("brand_new_code".into()))
        }
        other => panic!("{other:?}"),
    }
    assert!(decoders::enhanced_error(b"<html>502 Bad Gateway</html>").is_none());
    assert!(matches!(
        decoders::decisions(b"<html/>"),
        Err(PassError::Protocol(_))
    ));
}

/// A server on 127.0.0.1 that answers every request with `head` and then `body` forever.
async fn greedy_server(head: &'static str, chunked: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 16 * 1024];
                for _ in 0..4096 {
                    let r = if chunked {
                        sock.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .await
                            .and(sock.write_all(&chunk).await)
                            .and(sock.write_all(b"\r\n").await)
                    } else {
                        sock.write_all(&chunk).await
                    };
                    if r.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn client(base: String) -> PassClient {
    PassClient::builder()
        .environment(Environment::Custom(base))
        .service_provider("REF30")
        .software_statement("statement")
        .device_info(DeviceInfo::default())
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
        .request_timeout(Duration::from_secs(20))
        .retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_answer_announced_over_the_cap_is_refused_without_reading_it() {
    // Announces 1 GiB; the body trickles. Reading it all would take until the 20 s timeout.
    let base = greedy_server("HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n", false).await;
    let err = client(base).configuration().await.unwrap_err();
    assert!(
        matches!(&err, PassError::Protocol(m) if m.contains("larger than")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_streamed_answer_is_cut_at_the_cap() {
    let base = greedy_server("HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n", true).await;
    let err = client(base).configuration().await.unwrap_err();
    assert!(
        matches!(&err, PassError::Protocol(m) if m.contains("larger than")),
        "{err:?}"
    );
}
