//! `GET /api/v2/{sp}/configuration`, cached in memory, and the chosen MVPD.

use crate::client::{Call, PassClient};
use crate::error::PassError;
use crate::model::{BoardingStatus, Configuration, Mvpd};
use crate::time::Instant;
use serde::Deserialize;

#[derive(Deserialize)]
struct Wire {
    requestor: WireRequestor,
}

#[derive(Deserialize)]
struct WireRequestor {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    mvpds: Vec<WireMvpd>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMvpd {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    logo_url: Option<String>,
    #[serde(default)]
    is_temp_pass: bool,
    #[serde(default)]
    is_proxy: bool,
    #[serde(default)]
    platform_mapping_id: Option<String>,
    #[serde(default)]
    boarding_status: Option<String>,
    #[serde(default)]
    enable_platform_services: bool,
    #[serde(default)]
    display_in_platform_picker: bool,
    #[serde(default)]
    enforce_platform_permissions: bool,
}

pub(crate) fn decode(body: &[u8]) -> Result<Configuration, PassError> {
    let w: Wire = serde_json::from_slice(body)
        .map_err(|e| PassError::Protocol(format!("unexpected configuration: {e}")))?;
    Ok(Configuration {
        service_provider: w.requestor.id,
        name: w.requestor.name,
        mvpds: w
            .requestor
            .mvpds
            .into_iter()
            .map(|m| Mvpd {
                display_name: m.display_name.unwrap_or_else(|| m.id.clone()),
                id: m.id,
                logo_url: m.logo_url,
                is_temp_pass: m.is_temp_pass,
                is_proxy: m.is_proxy,
                platform_mapping_id: m.platform_mapping_id.filter(|p| !p.is_empty()),
                boarding_status: m.boarding_status.as_deref().map(BoardingStatus::from_wire),
                enable_platform_services: m.enable_platform_services,
                display_in_platform_picker: m.display_in_platform_picker,
                enforce_platform_permissions: m.enforce_platform_permissions,
            })
            .collect(),
    })
}

impl PassClient {
    /// The service provider's configuration (MVPD list). Ask for it only when the user must pick
    /// a provider; it is cached in memory for the configured time (default 150 s).
    pub async fn configuration(&self) -> Result<Configuration, PassError> {
        let inner = &self.inner;
        if let Some((at, c)) = inner
            .configuration
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            if at.elapsed() < inner.configuration_ttl {
                return Ok(c.clone());
            }
        }
        let answer = inner
            .call(&Call {
                sso: crate::sso::SsoScope::NONE,
                ..Call::get(inner.path(&["configuration"]))
            })
            .await?;
        let c = decode(&answer.body)?;
        *inner
            .configuration
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), c.clone()));
        Ok(c)
    }

    /// Remembers the MVPD the user picked (id, name, logo), persistently.
    pub fn select_mvpd(&self, mvpd: &Mvpd) {
        match &self.inner.state.store {
            Some(store) => store.save("selected_mvpd", mvpd),
            None => *self.inner.state.selected() = Some(mvpd.clone()),
        }
    }

    /// The MVPD the user picked last, if any.
    pub fn selected_mvpd(&self) -> Option<Mvpd> {
        match &self.inner.state.store {
            Some(store) => store.load("selected_mvpd"),
            None => self.inner.state.selected().clone(),
        }
    }
}
