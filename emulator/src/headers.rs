//! Validation of the request headers the REST API V2 documents.

use crate::errors::error_response;
use crate::state::Shared;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use serde_json::Value;

/// Restricted values of `primaryHardwareType`.
const HARDWARE_TYPES: &[&str] = &[
    "Camera",
    "DataCollectionTerminal",
    "Desktop",
    "EmbeddedNetworkModule",
    "eReader",
    "GamesConsole",
    "GeolocationTracker",
    "Glasses",
    "MediaPlayer",
    "MobilePhone",
    "PaymentTerminal",
    "PluginModem",
    "SetTopBox",
    "TV",
    "Tablet",
    "WirelessHotspot",
    "Wristwatch",
    "Unknown",
];

/// Restricted values of `osName`.
const OS_NAMES: &[&str] = &[
    "Android",
    "Chrome OS",
    "Linux",
    "Mac OS",
    "OS X",
    "OpenBSD",
    "Roku OS",
    "Windows",
    "iOS",
    "tvOS",
    "webOS",
];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    STANDARD.decode(t).or_else(|_| URL_SAFE.decode(t)).ok()
}

/// The client id behind a valid bearer token for this service provider, or the 401 answer.
pub fn bearer(shared: &Shared, headers: &HeaderMap, sp: &str) -> Result<String, Response> {
    let token = header(headers, "authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| error_response("invalid_access_token"))?;
    let now = shared.clock.now_ms();
    let state = shared.state();
    let t = state
        .tokens
        .get(token)
        .filter(|t| t.expires_at > now)
        .ok_or_else(|| error_response("invalid_access_token"))?;
    let client = state
        .clients
        .get(&t.client_id)
        .filter(|c| !c.revoked)
        .ok_or_else(|| error_response("invalid_access_token_client_application"))?;
    if shared.config.service_provider(sp).is_none() {
        return Err(error_response("invalid_parameter_service_provider"));
    }
    if client.service_provider != sp {
        return Err(error_response("invalid_access_token_service_provider"));
    }
    Ok(t.client_id.clone())
}

/// The checks of the calls that need a device: a valid bearer token for the service provider,
/// `AP-Device-Identifier` and `X-Device-Info`. Returns the decoded device identifier.
pub fn authorized_device(
    shared: &Shared,
    headers: &HeaderMap,
    sp: &str,
) -> Result<String, Response> {
    bearer(shared, headers, sp)?;
    let device = device_identifier(headers, true)?.unwrap_or_default();
    device_info(headers, true)?;
    Ok(device)
}

/// The decoded device identifier of `AP-Device-Identifier: fingerprint <base64>`.
///
/// `Ok(None)` when absent and not required.
pub fn device_identifier(headers: &HeaderMap, required: bool) -> Result<Option<String>, Response> {
    let Some(value) = header(headers, "ap-device-identifier") else {
        return if required {
            Err(error_response("invalid_header_device_identifier"))
        } else {
            Ok(None)
        };
    };
    let id = value
        .strip_prefix("fingerprint ")
        .and_then(decode_base64)
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| error_response("invalid_header_device_identifier"))?;
    Ok(Some(id))
}

/// The decoded `X-Device-Info` JSON object, checked against the restricted values.
pub fn device_info(headers: &HeaderMap, required: bool) -> Result<Option<Value>, Response> {
    let Some(value) = header(headers, "x-device-info") else {
        return if required {
            Err(error_response("invalid_header_device_info"))
        } else {
            Ok(None)
        };
    };
    let info: Value = decode_base64(value)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(Value::is_object)
        .ok_or_else(|| error_response("invalid_header_device_info"))?;
    let restricted = |key: &str, allowed: &[&str]| match info.get(key) {
        None => true,
        Some(Value::String(s)) => allowed.contains(&s.as_str()),
        Some(_) => false,
    };
    if !restricted("primaryHardwareType", HARDWARE_TYPES) || !restricted("osName", OS_NAMES) {
        return Err(error_response("invalid_header_device_info"));
    }
    Ok(Some(info))
}

/// The identifier hash carried by `AP-TempPass-Identity` under `key`, if valid.
pub fn temppass_identity(headers: &HeaderMap, key: &str, require_hash: bool) -> Option<String> {
    let value = header(headers, "ap-temppass-identity")?;
    let json: Value = serde_json::from_slice(&decode_base64(value)?).ok()?;
    let id = json.get(key)?.as_str()?.trim().to_string();
    if id.is_empty() {
        return None;
    }
    if require_hash
        && !(id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    {
        return None;
    }
    Some(id)
}

/// Whether the request's content type is the expected media type (parameters ignored).
pub fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    header(headers, "content-type")
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}
