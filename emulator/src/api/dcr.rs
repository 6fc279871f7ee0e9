//! Dynamic Client Registration: `POST /o/client/register` and `POST /o/client/token`.

use super::{parse_form, Ctx};
use crate::errors::{dcr_error, json_response};
use crate::headers::{content_type_is, device_info};
use crate::state::{Client, Token};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// `POST /o/client/register`: client credentials for an approved software statement.
pub async fn register(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Response {
    let shared = ctx.0;
    if !content_type_is(&headers, "application/json") || device_info(&headers, true).is_err() {
        return dcr_error("invalid_request");
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return dcr_error("invalid_request");
    };
    let Some(statement) = req.get("software_statement").and_then(Value::as_str) else {
        return dcr_error("invalid_request");
    };
    if let Some(uri) = req.get("redirect_uri") {
        let valid = uri.as_str().and_then(|u| url::Url::parse(u).ok()).is_some();
        if !valid {
            return dcr_error("invalid_redirect_uri");
        }
    }
    let Some(ss) = shared
        .config
        .software_statements
        .iter()
        .find(|s| s.statement == statement)
    else {
        return dcr_error("invalid_software_statement");
    };
    if !ss.approved {
        return dcr_error("unapproved_software_statement");
    }
    let client_id = format!("{:016x}", shared.random_u64());
    let secret = format!("{:016x}{:016x}", shared.random_u64(), shared.random_u64());
    let mut redirect_uris = ss.redirect_uris.clone();
    if let Some(u) = req.get("redirect_uri").and_then(Value::as_str) {
        redirect_uris.push(u.to_string());
    }
    shared.state().clients.insert(
        client_id.clone(),
        Client {
            secret: secret.clone(),
            service_provider: ss.service_provider.clone(),
            revoked: false,
        },
    );
    json_response(
        StatusCode::CREATED,
        &json!({
            "client_id": client_id,
            "client_secret": secret,
            "client_id_issued_at": shared.clock.now_ms() / 1000,
            "redirect_uris": redirect_uris,
            "grant_types": ["client_credentials"],
            "scopes": ["api:client:v2"],
        }),
    )
}

/// `POST /o/client/token`: an access token for client credentials.
pub async fn token(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Response {
    let shared = ctx.0;
    if !content_type_is(&headers, "application/x-www-form-urlencoded")
        || device_info(&headers, true).is_err()
    {
        return dcr_error("invalid_request");
    }
    let Some(form) = parse_form(&body) else {
        return dcr_error("invalid_request");
    };
    let (Some(id), Some(secret), Some(grant)) = (
        form.get("client_id"),
        form.get("client_secret"),
        form.get("grant_type"),
    ) else {
        return dcr_error("invalid_request");
    };
    if grant != "client_credentials" {
        return dcr_error("unsupported_grant_type");
    }
    let now = shared.clock.now_ms();
    let ttl = shared.config.access_token_ttl_secs;
    let mut state = shared.state();
    let valid = state
        .clients
        .get(id)
        .is_some_and(|c| !c.revoked && &c.secret == secret);
    if !valid {
        return dcr_error("invalid_client");
    }
    let access_token = format!(
        "{:016x}{:016x}{:016x}",
        shared.random_u64(),
        shared.random_u64(),
        shared.random_u64()
    );
    state.tokens.insert(
        access_token.clone(),
        Token {
            client_id: id.clone(),
            expires_at: now + ttl as i64 * 1000,
        },
    );
    drop(state);
    json_response(
        StatusCode::CREATED,
        &json!({
            "id": shared.uuid(),
            "access_token": access_token,
            "created_at": now,
            "expires_in": ttl,
            "token_type": "bearer",
        }),
    )
}
