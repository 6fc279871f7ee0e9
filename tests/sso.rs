//! Single sign-on against the emulator over HTTP on 127.0.0.1: partner (Apple), platform
//! identity (Amazon, Roku), service token, single logout; the exact headers, the request counts
//! and no token in logs or `Debug` output.

mod common;
use common::{emulator, Capture};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::sync::Arc;
use tvpass::{
    Decision, DenyReason, DeviceInfo, Environment, ErrorCode, LogoutAction, MemoryStorage,
    PartnerAccessStatus, PartnerFrameworkStatus, PassClient, PassError, PlatformIdentity,
    ProfileType, RateLimit, SessionAction, SessionReason, PARTNER_APPLE,
};
use tvpass_emulator::{Emulator, LoggedRequest, DEFAULT_SOFTWARE_STATEMENT};

fn builder(emu: &Emulator) -> tvpass::PassClientBuilder {
    PassClient::builder()
        .environment(Environment::Custom(emu.base_url()))
        .service_provider("REF30")
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("SetTopBox".into()),
            os_name: Some("tvOS".into()),
            ..Default::default()
        })
        .storage(Arc::new(MemoryStorage::new()))
        .rate_limit(RateLimit {
            enabled: false,
            ..RateLimit::default()
        })
}

/// A JWS whose payload names `sub` and expires at `exp` (seconds); the signature is not
/// checked by the emulator.
fn jws(sub: &str, exp: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"sub": sub, "iss": "idp", "aud": "Adobe", "iat": 1, "exp": exp})
            .to_string(),
    );
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

fn far_future_s() -> i64 {
    4_000_000_000
}

fn status_granted(emu: &Emulator) -> PartnerFrameworkStatus {
    PartnerFrameworkStatus::granted("Cablevision", emu.now_ms() + 86_400_000)
}

fn sent(emu: &Emulator, method: &str, path: &str) -> Vec<LoggedRequest> {
    emu.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

/// What the partner framework gives the app (Apple's `samlAttributeQueryResponse`).
fn framework_login(emu: &Emulator, request: &str) -> String {
    let mut attrs = serde_json::Map::new();
    attrs.insert("zip".into(), "10001".into());
    emu.partner_login("Apple", request, attrs).unwrap()
}

#[tokio::test]
async fn apple_partner_flow_end_to_end_at_the_protocol_minimum() {
    let emu = emulator().await;
    let c = builder(&emu).build().unwrap();

    let status = status_granted(&emu);
    let session = c.partner_session(PARTNER_APPLE, &status).await.unwrap();
    assert_eq!(session.action, SessionAction::PartnerProfile);
    assert_eq!(session.reason, SessionReason::None);
    assert_eq!(session.mvpd.as_deref(), Some("Cablevision"));
    let request = session.authentication_request.clone().unwrap();
    assert_eq!(request.protocol, "saml");
    assert_eq!(request.attribute_names, ["uid", "NameID", "uniqueId"]);

    let saml = framework_login(&emu, &request.request);
    assert!(
        saml.contains('\n') && saml.contains('\t'),
        "the framework's text is not normalised"
    );
    let profile = c
        .partner_profile(PARTNER_APPLE, &status, &saml)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.mvpd, "Cablevision");
    assert_eq!(profile.profile_type, ProfileType::AppleSso);
    assert_eq!(profile.issuer, "Apple");
    assert!(profile.profile_type.is_single_sign_on());

    // Stored like any other: no request for profiles.
    assert_eq!(
        c.profiles().await.unwrap()[0].profile_type,
        ProfileType::AppleSso
    );
    let d = c.authorize("Cablevision", "news").await.unwrap();
    assert!(d.is_permit(), "{d:?}");

    // register + token + partner session + partner profile + authorize
    let paths: Vec<String> = emu.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/o/client/register",
            "/o/client/token",
            "/api/v2/REF30/sessions/sso/Apple",
            "/api/v2/REF30/profiles/sso/Apple",
            "/api/v2/REF30/decisions/authorize/Cablevision",
        ]
    );

    // The headers and bodies exactly as the pages define them.
    let header = status.header_value();
    let doc: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(&header).unwrap()).unwrap();
    assert_eq!(doc["frameworkPermissionInfo"]["accessStatus"], "granted");
    assert_eq!(doc["frameworkProviderInfo"]["id"], "Cablevision");
    assert!(doc["frameworkProviderInfo"]["expirationDate"].is_string());
    let s = &sent(&emu, "POST", "/api/v2/REF30/sessions/sso/Apple")[0];
    assert_eq!(
        s.header("ap-partner-framework-status"),
        Some(header.as_str())
    );
    assert_eq!(
        s.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(s
        .header("ap-device-identifier")
        .unwrap()
        .starts_with("fingerprint "));
    assert!(s.header("x-device-info").is_some());
    assert!(s.header("authorization").unwrap().starts_with("Bearer "));
    assert_eq!(
        s.body,
        "domainName=adobe.com&redirectUrl=https%3A%2F%2Fadobe.com"
    );
    let p = &sent(&emu, "POST", "/api/v2/REF30/profiles/sso/Apple")[0];
    assert_eq!(
        p.header("ap-partner-framework-status"),
        Some(header.as_str())
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(p.body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(form.len(), 1);
    assert_eq!(form[0].0, "SAMLResponse");
    let xml = String::from_utf8(STANDARD.decode(&form[0].1).unwrap()).unwrap();
    assert!(!xml.contains('\n') && !xml.contains('\t') && !xml.contains("  "));
    assert!(xml.starts_with("<samlp:Response") && xml.ends_with("</samlp:Response>"));
    // Decisions carry the status too; the platform identity headers are absent.
    let a = &sent(
        &emu,
        "POST",
        "/api/v2/REF30/decisions/authorize/Cablevision",
    )[0];
    assert_eq!(
        a.header("ap-partner-framework-status"),
        Some(header.as_str())
    );
    assert!(a.header("adobe-subject-token").is_none());

    // A second partner session finds the profile: straight to decisions.
    let again = c.partner_session(PARTNER_APPLE, &status).await.unwrap();
    assert_eq!(again.action, SessionAction::Authorize);
    assert_eq!(again.reason, SessionReason::AuthenticatedSso);

    // A used SAML response is refused with its documented code.
    let err = c
        .partner_profile(PARTNER_APPLE, &status, &saml)
        .await
        .unwrap_err();
    assert_eq!(
        err.error_code(),
        Some(ErrorCode::InvalidParameterSamlResponse)
    );

    // Logout of a partner profile: the user logs out at the platform too.
    assert_eq!(
        c.logout("Cablevision").await.unwrap(),
        LogoutAction::PartnerLogout
    );
    assert!(c.profiles().await.unwrap().is_empty());

    // The configuration carries what the platform picker needs.
    let config = c.configuration().await.unwrap();
    let cablevision = config.mvpd_for_platform_id("Cablevision").unwrap();
    assert_eq!(cablevision.id, "Cablevision");
    assert!(cablevision.supports_platform_sso());
    assert_eq!(
        config.mvpd("Spectrum").unwrap().boarding_status,
        Some(tvpass::BoardingStatus::Picker)
    );
    assert_eq!(
        config.platform_picker_ids(),
        vec!["Cablevision", "spectrum"]
    );
}

#[tokio::test]
async fn partner_fallbacks_lead_to_the_basic_flow() {
    let emu = emulator().await;
    let c = builder(&emu).build().unwrap();

    // Denied by the user: pfs_fallback with a code for the basic flow.
    let denied = PartnerFrameworkStatus::without_provider(PartnerAccessStatus::Denied);
    let s = c.partner_session(PARTNER_APPLE, &denied).await.unwrap();
    assert_eq!(s.reason, SessionReason::PartnerStatusFallback);
    assert!(s.authentication_request.is_none());
    assert_eq!(
        s.action,
        SessionAction::Resume,
        "no MVPD known: it must be given"
    );
    assert_eq!(s.missing_parameters, ["mvpd"]);

    // Granted, but the MVPD only appears in the platform picker: configuration_fallback.
    let spectrum = PartnerFrameworkStatus::granted("spectrum", emu.now_ms() + 86_400_000);
    let s = c.partner_session(PARTNER_APPLE, &spectrum).await.unwrap();
    assert_eq!(s.action, SessionAction::Authenticate);
    assert_eq!(s.reason, SessionReason::ConfigurationFallback);
    assert_eq!(s.mvpd.as_deref(), Some("Spectrum"));
    let code = s.code.clone().unwrap();
    assert!(s
        .url
        .as_deref()
        .unwrap()
        .ends_with(&format!("/api/v2/authenticate/REF30/{code}")));
    emu.complete_authentication(&code, Default::default())
        .unwrap();
    let p = c.await_profile(&s).await.unwrap();
    assert_eq!(p.profile_type, ProfileType::Regular);

    // An expired provider login: pfs_fallback, MVPD preselected.
    let expired = PartnerFrameworkStatus::granted("Cablevision", emu.now_ms() - 1);
    let s = c.partner_session(PARTNER_APPLE, &expired).await.unwrap();
    assert_eq!(
        (s.action, s.reason),
        (
            SessionAction::Authenticate,
            SessionReason::PartnerStatusFallback
        )
    );

    // An unknown partner is the documented 400.
    let err = c
        .partner_session("Samsung", &status_granted(&emu))
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some(ErrorCode::InvalidParameterPartner));
    assert!(matches!(err, PassError::Server { status: 400, .. }));
}

#[tokio::test]
async fn partner_profile_errors_are_typed_and_hopeless_statuses_send_nothing() {
    let emu = emulator().await;
    let c = builder(&emu).build().unwrap();
    let status = status_granted(&emu);
    let s = c.partner_session(PARTNER_APPLE, &status).await.unwrap();
    let saml = framework_login(&emu, &s.authentication_request.unwrap().request);
    emu.clear_requests();

    // Refused on the device: not granted, no provider, no expiration date (the header requires
    // it), expired. No request.
    let no_expiry = PartnerFrameworkStatus {
        expiration_ms: None,
        ..status_granted(&emu)
    };
    for (bad, problem) in [
        (no_expiry.clone(), "no expiration date"),
        (
            PartnerFrameworkStatus::without_provider(PartnerAccessStatus::NotDetermined),
            "notDetermined",
        ),
        (
            PartnerFrameworkStatus::without_provider(PartnerAccessStatus::Granted),
            "no provider",
        ),
        (
            PartnerFrameworkStatus::granted("Cablevision", emu.now_ms() - 1000),
            "expired",
        ),
    ] {
        match c.partner_profile(PARTNER_APPLE, &bad, &saml).await {
            Err(PassError::InvalidConfiguration { setting, reason }) => {
                assert_eq!(setting, "partner_framework_status");
                assert!(reason.contains(problem), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // The session call refuses a status without an expiration date too, and so does the setter.
    for err in [
        c.partner_session(PARTNER_APPLE, &no_expiry)
            .await
            .unwrap_err(),
        c.set_partner_framework_status(Some(&no_expiry))
            .unwrap_err(),
    ] {
        assert!(
            matches!(&err, PassError::InvalidConfiguration { setting, reason }
                if *setting == "partner_framework_status" && reason.contains("expiration")),
            "{err:?}"
        );
    }
    assert!(matches!(
        c.partner_profile(PARTNER_APPLE, &status, " \n").await,
        Err(PassError::InvalidConfiguration {
            setting: "saml_response",
            ..
        })
    ));
    assert!(emu.requests().is_empty());

    // The service's checks: a provider it cannot map, a provider of another MVPD, a forged
    // response. Each is its documented code, and none was retried.
    let unknown = PartnerFrameworkStatus::granted("NoSuchProvider", emu.now_ms() + 86_400_000);
    let err = c
        .partner_profile(PARTNER_APPLE, &unknown, &saml)
        .await
        .unwrap_err();
    assert_eq!(
        err.error_code(),
        Some(ErrorCode::PfsProviderIdNotDetermined)
    );
    assert!(err.error_code().unwrap().is_partner_status());
    let other = PartnerFrameworkStatus::granted("spectrum", emu.now_ms() + 86_400_000);
    let err = c
        .partner_profile(PARTNER_APPLE, &other, &saml)
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some(ErrorCode::PfsProviderIdMismatch));
    let err = c
        .partner_profile(PARTNER_APPLE, &status, "<samlp:Response ID=\"_forged\"/>")
        .await
        .unwrap_err();
    assert_eq!(
        err.error_code(),
        Some(ErrorCode::InvalidParameterSamlResponse)
    );
    assert_eq!(emu.count("/api/v2/REF30/profiles/sso/Apple"), 3);
    assert!(!err.is_retryable());

    // The genuine response still works afterwards.
    let p = c
        .partner_profile(PARTNER_APPLE, &status, &saml)
        .await
        .unwrap();
    assert_eq!(p.unwrap().profile_type, ProfileType::AppleSso);
}

#[tokio::test]
async fn platform_identity_shares_the_login_between_apps() {
    let emu = emulator().await;
    let token = jws("fire-tv-user-1", far_future_s());
    let first = builder(&emu)
        .device_id("device-of-app-one")
        .platform_identity(PlatformIdentity::adobe_subject_token(token.clone()))
        .build()
        .unwrap();
    let s = first.create_session("Cablevision").await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    assert_eq!(
        first.await_profile(&s).await.unwrap().profile_type,
        ProfileType::Regular
    );

    // A second app of the same platform identity: no login, one request per call.
    let second = builder(&emu)
        .device_id("device-of-app-two")
        .platform_identity(PlatformIdentity::adobe_subject_token(token.clone()))
        .build()
        .unwrap();
    second.profiles().await.unwrap(); // registration and token
    emu.clear_requests();
    let profiles = second.refresh_profiles().await.unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].profile_type, ProfileType::PlatformSso);
    let session = second.create_session("Cablevision").await.unwrap();
    assert_eq!(
        (session.action, session.reason),
        (SessionAction::Authorize, SessionReason::AuthenticatedSso)
    );
    assert!(second
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());
    assert_eq!(emu.requests().len(), 3);
    for r in emu.requests() {
        assert_eq!(
            r.header("adobe-subject-token"),
            Some(token.as_str()),
            "{}",
            r.path
        );
        assert!(r.header("ad-service-token").is_none());
        assert!(r.header("x-roku-reserved-roku-connect-token").is_none());
    }

    // Without the identity the same device has nothing.
    let third = builder(&emu)
        .device_id("device-of-app-two")
        .build()
        .unwrap();
    let d = third.authorize("Cablevision", "news").await.unwrap();
    assert!(matches!(
        d,
        Decision::Deny {
            reason: DenyReason::ProfileMissing,
            ..
        }
    ));

    // Single logout from the second app ends the shared profile for every app of the identity.
    emu.clear_requests();
    let out = second.logout("Cablevision").await.unwrap();
    assert!(matches!(out, LogoutAction::OpenUrl { .. }), "{out:?}");
    let l = &emu.requests()[0];
    assert!(l.path.ends_with("/logout/Cablevision"));
    assert_eq!(l.header("adobe-subject-token"), Some(token.as_str()));
    let d = second.authorize("Cablevision", "news").await.unwrap();
    assert!(matches!(
        d,
        Decision::Deny {
            reason: DenyReason::ProfileMissing,
            ..
        }
    ));
    // The first app keeps its own regular profile.
    assert!(first
        .authorize("Cablevision", "news")
        .await
        .unwrap()
        .is_permit());

    // An expired identity token shares nothing.
    let stale = builder(&emu)
        .device_id("device-of-app-three")
        .platform_identity(PlatformIdentity::adobe_subject_token(jws(
            "fire-tv-user-1",
            1,
        )))
        .build()
        .unwrap();
    assert!(stale.refresh_profiles().await.unwrap().is_empty());
}

#[tokio::test]
async fn roku_token_and_service_token_use_their_own_headers() {
    let emu = emulator().await;
    let roku = jws("roku-user", far_future_s());
    let service = jws("programmer-user-7", far_future_s());
    let first = builder(&emu)
        .device_id("roku-app-one")
        .platform_identity(PlatformIdentity::roku_connect_token(roku.clone()))
        .service_token(service.clone())
        .visitor_id("ecid-123")
        .build()
        .unwrap();
    let s = first.create_session("Spectrum").await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    first.await_profile(&s).await.unwrap();
    let create = &sent(&emu, "POST", "/api/v2/REF30/sessions")[0];
    assert_eq!(
        create.header("x-roku-reserved-roku-connect-token"),
        Some(roku.as_str())
    );
    assert_eq!(create.header("ad-service-token"), Some(service.as_str()));
    assert_eq!(create.header("ap-visitor-identifier"), Some("ecid-123"));
    // Profile by code: the visitor only.
    let poll = emu
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/profiles/code/"))
        .unwrap();
    assert_eq!(poll.header("ap-visitor-identifier"), Some("ecid-123"));
    assert!(poll.header("ad-service-token").is_none());
    assert!(poll.header("x-roku-reserved-roku-connect-token").is_none());
    // Registration and the token endpoint carry none of them.
    for r in emu.requests().iter().filter(|r| r.path.starts_with("/o/")) {
        assert!(
            r.header("ad-service-token").is_none() && r.header("ap-visitor-identifier").is_none()
        );
    }

    // Another app of the same service-token user, on another platform identity.
    let other = builder(&emu)
        .device_id("phone-app")
        .service_token(service.clone())
        .build()
        .unwrap();
    let profiles = other.refresh_profiles().await.unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].profile_type, ProfileType::ServiceTokenSso);
    assert!(other
        .authorize("Spectrum", "anything")
        .await
        .unwrap()
        .is_permit());

    // Clearing the token at runtime stops the sharing.
    other.set_service_token(None).unwrap();
    let d = other.authorize("Spectrum", "anything").await.unwrap();
    assert!(matches!(
        d,
        Decision::Deny {
            reason: DenyReason::ProfileMissing,
            ..
        }
    ));
    other.set_service_token(Some(&service)).unwrap();
    assert!(other
        .authorize("Spectrum", "anything")
        .await
        .unwrap()
        .is_permit());

    // Bad values are refused by name, at build time and at runtime.
    for (b, setting) in [
        (builder(&emu).service_token(" "), "service_token"),
        (builder(&emu).visitor_id("a\nb"), "visitor_id"),
        (
            builder(&emu).platform_identity(PlatformIdentity::adobe_subject_token("")),
            "platform_identity",
        ),
    ] {
        match b.build() {
            Err(PassError::InvalidConfiguration { setting: s, .. }) => assert_eq!(s, setting),
            other => panic!("{other:?}"),
        }
    }
    assert!(other.set_visitor_id(Some("bad\r\nvalue")).is_err());
}

#[tokio::test]
async fn sso_tokens_stay_out_of_logs_debug_and_errors() {
    let capture = Capture::default();
    let _guard = capture.install();

    let emu = emulator().await;
    let subject = jws("secret-subject-for-logs", far_future_s());
    let service = jws("secret-service-user", far_future_s());
    let identity = PlatformIdentity::adobe_subject_token(subject.clone());
    let b = builder(&emu)
        .platform_identity(identity.clone())
        .service_token(service.clone())
        .visitor_id("secret-ecid-value");
    let builder_debug = format!("{b:?}");
    let c = b.build().unwrap();
    let status = status_granted(&emu);
    let s = c.partner_session(PARTNER_APPLE, &status).await.unwrap();
    let saml = framework_login(&emu, &s.authentication_request.as_ref().unwrap().request);
    let p = c
        .partner_profile(PARTNER_APPLE, &status, &saml)
        .await
        .unwrap();
    let d = c.authorize("Cablevision", "news").await.unwrap();
    emu.inject_fault(
        "/api/v2/REF30/decisions",
        tvpass_emulator::Fault::Status { status: 500 },
        1,
    );
    c.authorize("Cablevision", "news").await.unwrap();
    let err = c
        .partner_profile(PARTNER_APPLE, &status, &saml)
        .await
        .unwrap_err();
    let logs = capture.text();
    assert!(!logs.is_empty());
    let shown = format!(
        "{logs}\n{builder_debug}\n{c:?}\n{identity:?}\n{s:?}\n{p:?}\n{d:?}\n{err:?}\n{err}"
    );
    for secret in [
        subject.as_str(),
        service.as_str(),
        "secret-ecid-value",
        "secret-subject-for-logs",
        &status.header_value(),
    ] {
        assert!(!shown.contains(secret), "a single sign-on secret leaked");
    }
    // It was sent, though.
    let r = &sent(
        &emu,
        "POST",
        "/api/v2/REF30/decisions/authorize/Cablevision",
    )[0];
    assert_eq!(r.header("adobe-subject-token"), Some(subject.as_str()));
    assert_eq!(r.header("ap-visitor-identifier"), Some("secret-ecid-value"));
}

/// Logs `client` in to `mvpd` with the basic flow (the user finishes at once).
async fn basic_login(emu: &Emulator, client: &PassClient, mvpd: &str) -> tvpass::Profile {
    let s = client.create_session(mvpd).await.unwrap();
    emu.complete_authentication(s.code.as_deref().unwrap(), Default::default())
        .unwrap();
    client.await_profile(&s).await.unwrap()
}

fn mvpds_and_types(profiles: &[tvpass::Profile]) -> Vec<(String, ProfileType)> {
    profiles
        .iter()
        .map(|p| (p.mvpd.clone(), p.profile_type.clone()))
        .collect()
}

/// A device whose storage already holds a regular profile, then an SSO identity whose other app
/// created a profile at another MVPD: `profiles()` shows both with one request, then serves the
/// cache; single logout by the other app removes the shared one at the next Deny; changing or
/// clearing the identity drops what it brought.
async fn sso_profiles_stay_visible(
    identity: impl Fn(tvpass::PassClientBuilder) -> tvpass::PassClientBuilder,
    shared_mvpd: &str,
    own_mvpd: &str,
    sso_type: ProfileType,
    set_other_subject: impl Fn(&PassClient),
    clear: impl Fn(&PassClient),
) {
    let emu = emulator().await;
    // Another app of the same identity logs in to the shared MVPD.
    let other = identity(builder(&emu).device_id("device-of-the-other-app"))
        .build()
        .unwrap();
    basic_login(&emu, &other, shared_mvpd).await;

    // This device logged in to its own MVPD earlier, without single sign-on.
    let storage = Arc::new(MemoryStorage::new());
    let device = || {
        builder(&emu)
            .device_id("this-device")
            .storage(storage.clone())
    };
    basic_login(&emu, &device().build().unwrap(), own_mvpd).await;

    // A warm start without SSO: the cache answers, 1 request to authorize.
    let warm = device().build().unwrap();
    emu.clear_requests();
    let own = vec![(own_mvpd.to_string(), ProfileType::Regular)];
    assert_eq!(mvpds_and_types(&warm.profiles().await.unwrap()), own);
    assert!(emu.requests().is_empty(), "served from the cache");
    assert!(warm.authorize(own_mvpd, "news").await.unwrap().is_permit());
    assert_eq!(emu.requests().len(), 1);

    // The app now presents the identity: 1 request shows the other app's profile beside its own.
    let sso = identity(device()).build().unwrap();
    emu.clear_requests();
    let mut both = vec![
        (shared_mvpd.to_string(), sso_type.clone()),
        (own_mvpd.to_string(), ProfileType::Regular),
    ];
    both.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(mvpds_and_types(&sso.profiles().await.unwrap()), both);
    assert_eq!(emu.requests().len(), 1);
    assert!(emu.requests()[0].path.ends_with("/profiles"));
    // After that the cache answers, for all profiles and for one.
    assert_eq!(mvpds_and_types(&sso.profiles().await.unwrap()), both);
    let one = sso.profile(shared_mvpd).await.unwrap().unwrap();
    assert_eq!(one.profile_type, sso_type.clone());
    assert_eq!(
        emu.requests().len(),
        1,
        "no request while the identity stays"
    );
    assert!(sso
        .authorize(shared_mvpd, "news")
        .await
        .unwrap()
        .is_permit());

    // `profile(mvpd)` of a fresh client with the identity: one request too.
    let fresh = identity(device()).build().unwrap();
    emu.clear_requests();
    assert_eq!(
        fresh
            .profile(shared_mvpd)
            .await
            .unwrap()
            .unwrap()
            .profile_type,
        sso_type
    );
    assert_eq!(emu.requests().len(), 1);

    // Another subject: the profiles of the old one are dropped at once, the service is asked.
    set_other_subject(&sso);
    assert_eq!(mvpds_and_types(&sso.cached_profiles()), own);
    emu.clear_requests();
    assert_eq!(mvpds_and_types(&sso.profiles().await.unwrap()), own);
    assert_eq!(emu.requests().len(), 1, "asked under the new identity");
    // Cleared: the cache answers again, without the shared profile.
    clear(&sso);
    emu.clear_requests();
    assert_eq!(mvpds_and_types(&sso.profiles().await.unwrap()), own);
    assert!(emu.requests().is_empty());

    // Single logout by the other app: gone at the next Deny.
    let sso = identity(device()).build().unwrap();
    assert_eq!(mvpds_and_types(&sso.profiles().await.unwrap()), both);
    other.logout(shared_mvpd).await.unwrap();
    let d = sso.authorize(shared_mvpd, "news").await.unwrap();
    assert!(
        matches!(
            d,
            Decision::Deny {
                reason: DenyReason::ProfileMissing,
                ..
            }
        ),
        "{d:?}"
    );
    emu.clear_requests();
    assert_eq!(mvpds_and_types(&sso.profiles().await.unwrap()), own);
    assert!(
        emu.requests().is_empty(),
        "the Deny removed it from the cache"
    );
    // A new client of the identity asks and sees the same.
    assert_eq!(
        mvpds_and_types(
            &identity(device())
                .build()
                .unwrap()
                .profiles()
                .await
                .unwrap()
        ),
        own
    );
}

#[tokio::test]
async fn platform_identity_profiles_of_other_apps_appear_beside_cached_ones() {
    let token = jws("fire-tv-household-9", far_future_s());
    sso_profiles_stay_visible(
        |b| b.platform_identity(PlatformIdentity::adobe_subject_token(token.clone())),
        "Cablevision",
        "Spectrum",
        ProfileType::PlatformSso,
        |c| {
            c.set_platform_identity(Some(PlatformIdentity::adobe_subject_token(jws(
                "someone-else",
                far_future_s(),
            ))))
            .unwrap()
        },
        |c| c.set_platform_identity(None).unwrap(),
    )
    .await;
}

#[tokio::test]
async fn service_token_profiles_of_other_apps_appear_beside_cached_ones() {
    let token = jws("programmer-user-9", far_future_s());
    sso_profiles_stay_visible(
        |b| b.service_token(token.clone()),
        "Spectrum",
        "Cablevision",
        ProfileType::ServiceTokenSso,
        |c| {
            c.set_service_token(Some(&jws("programmer-user-10", far_future_s())))
                .unwrap()
        },
        |c| c.set_service_token(None).unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_fresh_token_for_the_same_subject_keeps_the_cache() {
    let emu = emulator().await;
    let c = builder(&emu)
        .platform_identity(PlatformIdentity::adobe_subject_token(jws(
            "user-a",
            4_000_000_000,
        )))
        .build()
        .unwrap();
    basic_login(&emu, &c, "Cablevision").await;
    c.profiles().await.unwrap();
    emu.clear_requests();
    // The platform hands out a new token (another expiry) for the same user.
    c.set_platform_identity(Some(PlatformIdentity::adobe_subject_token(jws(
        "user-a",
        4_000_000_001,
    ))))
    .unwrap();
    assert_eq!(c.profiles().await.unwrap().len(), 1);
    assert!(emu.requests().is_empty(), "same subject: the cache answers");
    // Another subject: asked again.
    c.set_platform_identity(Some(PlatformIdentity::adobe_subject_token(jws(
        "user-b",
        4_000_000_001,
    ))))
    .unwrap();
    c.profiles().await.unwrap();
    assert_eq!(emu.requests().len(), 1);
}

#[tokio::test]
async fn the_partner_status_carries_its_expiry_on_the_wire() {
    let emu = emulator().await;
    let c = builder(&emu).build().unwrap();
    let expiry = emu.partner_login_expiration_ms();
    let status = PartnerFrameworkStatus::granted("Cablevision", expiry);
    c.partner_session(PARTNER_APPLE, &status).await.unwrap();
    let sent = sent(&emu, "POST", "/api/v2/REF30/sessions/sso/Apple");
    let header = sent[0].header("ap-partner-framework-status").unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(header).unwrap()).unwrap();
    assert_eq!(
        json["frameworkProviderInfo"]["expirationDate"],
        serde_json::json!(expiry.to_string()),
        "a string of milliseconds"
    );
    // Profiles and decisions carry the same status, and a partner profile appears with one
    // request once the status is set.
    c.profiles().await.unwrap();
    let p = sent_last(&emu, "/api/v2/REF30/profiles");
    assert_eq!(p.header("ap-partner-framework-status"), Some(header));
}

fn sent_last(emu: &Emulator, path: &str) -> LoggedRequest {
    emu.requests()
        .into_iter()
        .rfind(|r| r.path == path)
        .unwrap()
}
