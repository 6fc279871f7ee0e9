//! `GET /api/v2/{serviceProvider}/configuration`.

use super::Ctx;
use crate::errors::json_response;
use crate::headers::{bearer, device_identifier, device_info};
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

/// The service provider's MVPD list.
pub async fn configuration(ctx: Ctx, Path(sp): Path<String>, headers: HeaderMap) -> Response {
    let shared = ctx.0;
    if let Err(r) = bearer(&shared, &headers, &sp) {
        return r;
    }
    if let Err(r) = device_identifier(&headers, false).and(device_info(&headers, false)) {
        return r;
    }
    let Some(cfg) = shared.config.service_provider(&sp) else {
        return crate::errors::error_response("invalid_parameter_service_provider");
    };
    let mvpds: Vec<_> = cfg
        .mvpds
        .iter()
        .filter(|m| m.enabled)
        .map(|m| {
            let mut v = json!({
                "id": m.id,
                "displayName": m.display_name,
                "logoUrl": m.logo_url,
            });
            if m.temppass.is_some() {
                v["isTempPass"] = json!(true);
                v["authPerAggregator"] = json!(true);
            }
            if let Some(id) = &m.platform_mapping_id {
                v["platformMappingId"] = json!(id);
                v["enablePlatformServices"] = json!(m.enable_platform_services);
                v["displayInPlatformPicker"] = json!(m.display_in_platform_picker);
                v["enforcePlatformPermissions"] = json!(m.enforce_platform_permissions);
                if let Some(b) = &m.boarding_status {
                    v["boardingStatus"] = json!(b);
                }
            }
            v
        })
        .collect();
    let domains: Vec<_> = cfg
        .domains
        .iter()
        .map(|d| json!({"name": d, "mvpdInitiated": false}))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "device": "unknown",
            "clientType": "rest-api-v2",
            "os": "Unknown",
            "requestor": {
                "id": cfg.id,
                "name": cfg.name,
                "domains": domains,
                "mvpds": mvpds,
            },
        }),
    )
}
