//! Enhanced error codes as the service documents them, and the HTTP answers built from them.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

const HELP_URL: &str =
    "https://experienceleague.adobe.com/docs/pass/authentication/auth-features/error-reportn/enhanced-error-codes.html";

/// Content type of every JSON answer, as the service sends it.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// The documented status, action and message of a code; unknown codes get 403, `none`.
pub fn describe(code: &str) -> (u16, &'static str, &'static str) {
    match code {
        "invalid_parameter_service_provider" => (400, "none", "The service provider parameter value is missing or invalid."),
        "invalid_parameter_mvpd" => (400, "none", "The mvpd parameter value is missing or invalid."),
        "invalid_parameter_code" => (400, "none", "The code parameter value is missing or invalid."),
        "invalid_parameter_resources" => (400, "none", "The resources parameter value is missing or invalid."),
        "invalid_parameter_redirect_url" => (400, "none", "The redirect URL parameter value is missing or invalid."),
        "invalid_parameter_partner" => (400, "none", "The partner parameter value is missing or invalid."),
        "invalid_parameter_saml_response" => (400, "none", "The SAML response parameter value is missing or invalid."),
        "invalid_header_pfs_permission_access_not_present" => (400, "none", "The permission access status value from the partner framework status header is not present."),
        "invalid_header_pfs_permission_access_not_determined" => (400, "none", "The permission access status value from the partner framework status header is undetermined."),
        "invalid_header_pfs_permission_access_not_granted" => (400, "none", "The permission access status value from the partner framework status header is not granted."),
        "invalid_header_pfs_provider_id_not_determined" => (400, "none", "The provider id value from the partner framework status header is not associated with a known mvpd."),
        "invalid_header_pfs_provider_id_mismatch" => (400, "none", "The provider id value from the partner framework status header does not match the mvpd sent as parameter."),
        "invalid_header_pfs_provider_info_expired" => (400, "none", "The provider information from the partner framework status header has expired."),
        "invalid_header_device_info" => (400, "none", "The device information header value is missing or invalid."),
        "invalid_header_device_identifier" => (400, "none", "The device identifier header value is missing or invalid."),
        "invalid_header_identity_for_temporary_access" => (400, "none", "The identity for temporary access header value is missing or invalid."),
        "invalid_integration" => (400, "none", "The integration between the specified service provider and mvpd does not exist or is disabled."),
        "invalid_authentication_session" => (400, "none", "The authentication session associated with this request is missing or invalid."),
        "preauthorization_denied_by_mvpd" => (403, "none", "The MVPD has returned a \"Deny\" decision when requesting pre-authorization for the specified resource."),
        "authorization_denied_by_mvpd" => (403, "none", "The MVPD has returned a \"Deny\" decision when requesting authorization for the specified resource."),
        "authorization_denied_by_parental_controls" => (403, "none", "The MVPD has returned a \"Deny\" decision due parental controls settings for the specified resource."),
        "authorization_denied_by_degradation_rule" => (403, "none", "The integration between the specified service provider and mvpd has a degradation rule applied that denies authorization for the requested resources."),
        "internal_server_error" => (500, "none", "The request failed due to an internal server error."),
        "too_many_resources" => (403, "configuration", "The authorization or preauthorization request failed because too many resources were queried."),
        "invalid_configuration_temporary_access" => (500, "configuration", "The temporary access configuration is invalid."),
        "invalid_configuration_user_metadata_certificate" => (500, "configuration", "The user metadata certificate configuration is missing or invalid."),
        "invalid_configuration_platform" => (500, "configuration", "The platform configuration is missing or invalid for integration."),
        "invalid_configuration_platform_id" => (500, "configuration", "The platform id configuration is missing or invalid."),
        "invalid_configuration_platform_trait" => (500, "configuration", "The platform trait configuration is missing or invalid."),
        "invalid_configuration_platform_category_trait" => (500, "configuration", "The platform category trait configuration is missing or invalid."),
        "invalid_configuration_platform_services" => (500, "configuration", "The platform services configuration is missing or invalid for integration."),
        "invalid_configuration_mvpd_platform" => (500, "configuration", "The mvpd platform configuration is missing or invalid for mvpd and platform."),
        "invalid_configuration_mvpd_platform_boarding_status" => (500, "configuration", "The mvpd platform boarding status configuration is missing or invalid for mvpd and platform."),
        "invalid_configuration_mvpd_platform_profile_exchange" => (500, "configuration", "The mvpd platform profile exchange configuration is missing or invalid for mvpd and platform."),
        "invalid_access_token_service_provider" => (401, "application-registration", "The access token is invalid due to invalid service provider."),
        "invalid_access_token_client_application" => (401, "application-registration", "The access token is invalid due to invalid client application."),
        "authenticated_profile_missing" => (403, "authentication", "The authenticated profile associated with this request is missing."),
        "authenticated_profile_expired" => (403, "authentication", "The authenticated profile associated with this request has expired."),
        "authenticated_profile_invalidated" => (403, "authentication", "The authenticated profile associated with this request has been invalidated."),
        "temporary_access_duration_limit_exceeded" => (403, "authentication", "The temporary access duration limit has been exceeded."),
        "temporary_access_resources_limit_exceeded" => (403, "authentication", "The temporary access resources limit has been exceeded."),
        "authorization_denied_by_hba_policies" => (403, "authentication", "The MVPD has returned a \"Deny\" decision due home-based authentication policies."),
        "authorization_denied_by_session_invalidated" => (403, "authentication", "The authentication session was invalidated by the identity provider."),
        "identity_not_recognized_by_mvpd" => (403, "authentication", "The authorization request failed due to the fact that user identity was not recognized by the MVPD."),
        "network_received_error" => (403, "retry", "There was a read error while retrieving the response from the associated partner service."),
        "network_connection_timeout" => (403, "retry", "There was a connection timeout with the associated partner service."),
        "maximum_execution_time_exceeded" => (403, "retry", "The request did not complete in the maximum allowed time."),
        "invalid_access_token" => (401, "none", "The access token is missing, invalid or expired."),
        _ => (403, "none", "The request was denied."),
    }
}

static TRACE: AtomicU64 = AtomicU64::new(1);

fn trace() -> String {
    let n = TRACE.fetch_add(1, Ordering::Relaxed);
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// The enhanced error object for a code, with optional partner details.
pub fn enhanced(code: &str, details: Option<&str>) -> Value {
    let (status, action, message) = describe(code);
    let mut v = json!({
        "action": action,
        "status": status,
        "code": code,
        "message": message,
        "helpUrl": HELP_URL,
        "trace": trace(),
    });
    if let Some(d) = details {
        v["details"] = Value::String(d.to_string());
    }
    v
}

/// A JSON answer with the service's content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    resp
}

/// A top-level enhanced error answer: the HTTP status is the code's documented status.
pub fn error_response(code: &str) -> Response {
    let body = enhanced(code, None);
    let status = StatusCode::from_u16(describe(code).0).unwrap_or(StatusCode::FORBIDDEN);
    json_response(status, &body)
}

/// A DCR (OAuth-style) error: `400 {"error": "..."}`.
pub fn dcr_error(error: &str) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({ "error": error }))
}

/// An HTML answer, as the user-agent endpoints and the throttle send.
pub fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp
}
