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
            json!({"requestor": {"id": s, "mvpds": [{"id": s, "isTempPass": b, "boardingStatus": s, "platformMappingId": s, "displayInPlatformPicker": b, "enablePlatformServices": s}]}}),
            json!({"actionName": "partner_profile", "reasonType": s, "authenticationRequest": {"type": s, "request": n, "attributesNames": [s, n.to_string()]}}),
            json!({"actionName": "partner_profile", "authenticationRequest": s}),
            json!({"logouts": {s.clone(): {"actionName": "partner_logout", "actionType": s}}}),
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

/// Answers shaped like each sample of the partner single sign-on pages (and the SSO samples of
/// the profiles and logout pages) decode into their typed values.
#[test]
fn partner_sso_sample_answers_decode() {
    use tvpass::{BoardingStatus, LogoutAction, ProfileType, SessionAction, SessionReason};
    // Retrieve partner authentication request: proceed with the partner.
    let s = decoders::session(br#"{"actionName":"partner_profile","actionType":"direct","reasonType":"none","url":"/api/v2/SP1/profiles/sso/Apple","sessionId":"0b7c","mvpd":"Mvpd1","serviceProvider":"SP1","authenticationRequest":{"type":"saml","request":"PHNhbWw+","attributesNames":["uid","NameID","uniqueId"]}}"#).unwrap();
    assert_eq!(s.action, SessionAction::PartnerProfile);
    assert_eq!(
        s.url.as_deref(),
        Some("https://base/api/v2/SP1/profiles/sso/Apple")
    );
    let r = s.authentication_request.unwrap();
    assert_eq!(
        (r.protocol.as_str(), r.request.as_str()),
        ("saml", "PHNhbWw+")
    );
    assert_eq!(r.attribute_names, ["uid", "NameID", "uniqueId"]);
    // ... degradation applies.
    let s = decoders::session(br#"{"actionName":"authorize","actionType":"direct","reasonType":"degraded","url":"/api/v2/SP1/decisions/authorize/Mvpd2","sessionId":"1a","mvpd":"Mvpd2","serviceProvider":"SP1"}"#).unwrap();
    assert_eq!(
        (s.action, s.reason),
        (SessionAction::Authorize, SessionReason::Degraded)
    );
    // ... fallbacks for the status, the configuration, missing parameters.
    for (reason, want) in [
        ("pfs_fallback", SessionReason::PartnerStatusFallback),
        (
            "configuration_fallback",
            SessionReason::ConfigurationFallback,
        ),
    ] {
        let body = format!(
            r#"{{"actionName":"authenticate","actionType":"interactive","reasonType":"{reason}","url":"/api/v2/authenticate/SP1/ABC1234","code":"ABC1234","sessionId":"2b","mvpd":"Mvpd1","serviceProvider":"SP1","notBefore":"1733735289035","notAfter":"1733737089035"}}"#
        );
        let s = decoders::session(body.as_bytes()).unwrap();
        assert_eq!((s.action, s.reason), (SessionAction::Authenticate, want));
        assert_eq!(s.code.as_deref(), Some("ABC1234"));
        assert_eq!(s.not_after_ms, Some(1733737089035));
    }
    let s = decoders::session(br#"{"actionName":"resume","actionType":"direct","reasonType":"missing_parameters_fallback","missingParameters":["redirectUrl"],"url":"/api/v2/SP1/sessions/XYZ7890","code":"XYZ7890","sessionId":"3c","mvpd":"Mvpd1","serviceProvider":"SP1","notBefore":"1","notAfter":"2"}"#).unwrap();
    assert_eq!(
        (s.action, s.reason),
        (
            SessionAction::Resume,
            SessionReason::MissingParametersFallback
        )
    );
    assert_eq!(s.missing_parameters, ["redirectUrl"]);
    // ... an SSO profile already applies.
    let s = decoders::session(br#"{"actionName":"authorize","actionType":"direct","reasonType":"authenticatedSSO","sessionId":"4d","mvpd":"Mvpd1","serviceProvider":"SP1"}"#).unwrap();
    assert_eq!(s.reason, SessionReason::AuthenticatedSso);

    // Retrieve profile using partner authentication response: apple, then degraded.
    let p = decoders::profiles(br#"{"profiles":{"Mvpd1":{"notBefore":1752149281000,"notAfter":1783685280000,"issuer":"Apple","type":"appleSSO","attributes":{"userID":{"value":"dXNlcg==","state":"plain"},"householdID":{"value":"aGg=","state":"plain"},"zip":{"value":"emlw","state":"enc"}}}}}"#).unwrap();
    assert_eq!(p[0].profile_type, ProfileType::AppleSso);
    assert_eq!(p[0].issuer, "Apple");
    assert!(p[0].attributes["zip"].encrypted);
    let p = decoders::profiles(br#"{"profiles":{"Mvpd2":{"notBefore":1706636062704,"notAfter":1706696062704,"issuer":"Adobe","type":"degraded","attributes":{"userID":{"value":"95cf","state":"plain"}}}}}"#).unwrap();
    assert_eq!(p[0].profile_type, ProfileType::Degraded);
    // Profiles through platform identity and service token.
    let p = decoders::profiles(br#"{"profiles":{"Mvpd3":{"notBefore":1724337476000,"notAfter":1724345252000,"issuer":"Mvpd3","type":"platformSSO","attributes":{"upstreamUserID":{"value":"3852","state":"plain"}}},"Mvpd4":{"notBefore":1748073636999,"notAfter":1748105173000,"issuer":"Mvpd4","type":"serviceTokenSSO","attributes":{"upstreamUserID":{"value":"AAdz","state":"enc"}}}}}"#).unwrap();
    assert_eq!(p[0].profile_type, ProfileType::PlatformSso);
    assert_eq!(p[1].profile_type, ProfileType::ServiceTokenSso);
    assert!(p.iter().all(|p| p.profile_type.is_single_sign_on()));

    // Logout of a partner profile, and a single logout with a relative URL.
    let l = decoders::logout(br#"{"logouts":{"mvpd":{"actionName":"partner_logout","actionType":"partner_interactive","mvpd":"mvpd"}}}"#).unwrap();
    assert_eq!(l, LogoutAction::PartnerLogout);
    let l = decoders::logout(br#"{"logouts":{"mvpd":{"actionName":"logout","actionType":"interactive","mvpd":"mvpd","url":"/adobe-services/logout?requestor_id=SP1&mso_id=mvpd"}}}"#).unwrap();
    assert_eq!(
        l,
        LogoutAction::OpenUrl {
            url: "https://base/adobe-services/logout?requestor_id=SP1&mso_id=mvpd".into()
        }
    );

    // Configuration with the platform fields.
    let c = decoders::configuration(br#"{"requestor":{"id":"SP1","mvpds":[{"id":"M1","displayName":"One","platformMappingId":"apple-m1","boardingStatus":"SUPPORTED","enablePlatformServices":true,"displayInPlatformPicker":true,"enforcePlatformPermissions":true,"isProxy":true},{"id":"M2","boardingStatus":"PICKER","platformMappingId":"apple-m2","displayInPlatformPicker":true},{"id":"M3","boardingStatus":"SOMETHING_NEW"}]}}"#).unwrap();
    let m1 = c.mvpd_for_platform_id("apple-m1").unwrap();
    assert!(m1.supports_platform_sso() && m1.is_proxy && m1.enforce_platform_permissions);
    assert_eq!(
        c.mvpd("M2").unwrap().boarding_status,
        Some(BoardingStatus::Picker)
    );
    assert!(!c.mvpd("M2").unwrap().supports_platform_sso());
    assert_eq!(
        c.mvpd("M3").unwrap().boarding_status,
        Some(BoardingStatus::Other("SOMETHING_NEW".into()))
    );
    assert_eq!(c.platform_picker_ids(), vec!["apple-m1", "apple-m2"]);
}

/// Every documented REST API V2 code is typed; configuration and partner-status codes arriving
/// as item-level Denies get their own reasons.
#[test]
fn every_documented_code_is_typed() {
    use tvpass::{DenyReason, ErrorCode};
    let documented = [
        "invalid_parameter_service_provider",
        "invalid_parameter_mvpd",
        "invalid_parameter_code",
        "invalid_parameter_resources",
        "invalid_parameter_redirect_url",
        "invalid_parameter_partner",
        "invalid_parameter_saml_response",
        "invalid_header_device_info",
        "invalid_header_device_identifier",
        "invalid_header_identity_for_temporary_access",
        "invalid_header_pfs_permission_access_not_present",
        "invalid_header_pfs_permission_access_not_determined",
        "invalid_header_pfs_permission_access_not_granted",
        "invalid_header_pfs_provider_id_not_determined",
        "invalid_header_pfs_provider_id_mismatch",
        "invalid_header_pfs_provider_info_expired",
        "invalid_integration",
        "invalid_authentication_session",
        "preauthorization_denied_by_mvpd",
        "authorization_denied_by_mvpd",
        "authorization_denied_by_parental_controls",
        "authorization_denied_by_degradation_rule",
        "internal_server_error",
        "too_many_resources",
        "invalid_configuration_user_metadata_certificate",
        "invalid_configuration_temporary_access",
        "invalid_configuration_platform",
        "invalid_configuration_platform_id",
        "invalid_configuration_platform_trait",
        "invalid_configuration_platform_category_trait",
        "invalid_configuration_platform_services",
        "invalid_configuration_mvpd_platform",
        "invalid_configuration_mvpd_platform_boarding_status",
        "invalid_configuration_mvpd_platform_profile_exchange",
        "invalid_access_token_service_provider",
        "invalid_access_token_client_application",
        "authenticated_profile_missing",
        "authenticated_profile_expired",
        "authenticated_profile_invalidated",
        "temporary_access_duration_limit_exceeded",
        "temporary_access_resources_limit_exceeded",
        "authorization_denied_by_hba_policies",
        "authorization_denied_by_session_invalidated",
        "identity_not_recognized_by_mvpd",
        "network_received_error",
        "network_connection_timeout",
        "maximum_execution_time_exceeded",
    ];
    let mut seen = std::collections::HashSet::new();
    for code in documented {
        let typed = ErrorCode::from_code(code);
        assert!(!matches!(typed, ErrorCode::Other(_)), "{code} is not typed");
        assert_eq!(typed.as_str(), code);
        assert!(seen.insert(typed), "{code} shares a variant");
    }
    assert_eq!(
        ErrorCode::from_code("brand_new"),
        ErrorCode::Other("brand_new".into())
    );
    assert!(ErrorCode::InvalidConfigurationPlatform.is_misconfiguration());
    assert!(ErrorCode::PfsProviderIdMismatch.is_partner_status());

    let d = decoders::decisions(br#"{"decisions":[{"resource":"r","mvpd":"m","authorized":false,"error":{"status":500,"code":"invalid_configuration_temporary_access","action":"configuration","message":"m"}},{"resource":"s","authorized":false,"error":{"status":400,"code":"invalid_header_pfs_provider_info_expired","action":"none","message":"m"}}]}"#).unwrap();
    let reasons: Vec<_> = d
        .iter()
        .map(|d| match d {
            tvpass::Decision::Deny { reason, error, .. } => (reason.clone(), error.error_code()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (
                DenyReason::Misconfigured {
                    code: "invalid_configuration_temporary_access".into()
                },
                ErrorCode::InvalidConfigurationTemporaryAccess
            ),
            (
                DenyReason::PartnerStatus {
                    code: "invalid_header_pfs_provider_info_expired".into()
                },
                ErrorCode::PfsProviderInfoExpired
            ),
        ]
    );
}

/// The header of a status is the documented Base64-encoded JSON, and an app-side check tells
/// why a status cannot create a profile.
#[test]
fn partner_framework_status_header_and_checks() {
    use base64::Engine;
    use tvpass::{
        PartnerAccessStatus, PartnerFrameworkError, PartnerFrameworkStatus, PartnerStatusProblem,
    };
    let mut s = PartnerFrameworkStatus::granted("Mvpd1", 2025430636000);
    s.provider_error = Some(PartnerFrameworkError {
        code: "E1".into(),
        message: "m".into(),
    });
    let v: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(s.header_value())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        v,
        json!({
            "frameworkPermissionInfo": {"accessStatus": "granted"},
            "frameworkProviderInfo": {"id": "Mvpd1", "expirationDate": "2025430636000", "error": {"code": "E1", "message": "m"}},
        })
    );
    let denied = PartnerFrameworkStatus::without_provider(PartnerAccessStatus::Denied);
    let v: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(denied.header_value())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"frameworkPermissionInfo": {"accessStatus": "denied"}, "frameworkProviderInfo": {}})
    );
    assert_eq!(s.problem(0), None);
    assert_eq!(
        s.problem(2025430636000),
        Some(PartnerStatusProblem::Expired)
    );
    assert_eq!(
        denied.problem(0),
        Some(PartnerStatusProblem::NotGranted(
            PartnerAccessStatus::Denied
        ))
    );
    assert_eq!(
        PartnerFrameworkStatus::without_provider(PartnerAccessStatus::Granted).problem(0),
        Some(PartnerStatusProblem::NoProvider)
    );
    for (status, text) in [
        (PartnerAccessStatus::Granted, "granted"),
        (PartnerAccessStatus::Denied, "denied"),
        (PartnerAccessStatus::Restricted, "restricted"),
        (PartnerAccessStatus::NotDetermined, "notDetermined"),
    ] {
        assert_eq!(status.as_str(), text);
    }
}
