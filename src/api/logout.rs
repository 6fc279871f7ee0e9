//! `GET /api/v2/{sp}/logout/{mvpd}`.

use crate::client::{check_segment, Call, PassClient};
use crate::error::PassError;
use crate::model::LogoutAction;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct Wire {
    logouts: HashMap<String, WireLogout>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLogout {
    action_name: String,
    #[serde(default)]
    url: Option<String>,
}

pub(crate) fn decode(body: &[u8], mvpd: &str, base: &str) -> Result<LogoutAction, PassError> {
    let w: Wire = serde_json::from_slice(body)
        .map_err(|e| PassError::Protocol(format!("unexpected logout answer: {e}")))?;
    let Some(l) = w.logouts.get(mvpd).or_else(|| w.logouts.values().next()) else {
        return Ok(LogoutAction::Complete);
    };
    Ok(match (l.action_name.as_str(), &l.url) {
        ("logout", Some(u)) => LogoutAction::OpenUrl {
            url: if u.starts_with('/') {
                format!("{base}{u}")
            } else {
                u.clone()
            },
        },
        ("logout", None) | ("complete", _) => LogoutAction::Complete,
        ("partner_logout", _) => LogoutAction::PartnerLogout,
        ("invalid", _) => LogoutAction::NoProfile,
        (other, _) => LogoutAction::Other(other.to_string()),
    })
}

impl PassClient {
    /// Logs out of an MVPD, on the user's request only. Returns what the app must still do
    /// (open a URL in a user agent for `OpenUrl`). Clears the cached profile, the cached
    /// preauthorizations of that MVPD and the chosen MVPD.
    pub async fn logout(&self, mvpd: &str) -> Result<LogoutAction, PassError> {
        check_segment("mvpd", mvpd)?;
        let inner = &self.inner;
        let mut call = Call::get(inner.path(&["logout", mvpd]));
        call.sso = crate::sso::SsoScope::IDENTITY;
        call.query.push(("redirectUrl", inner.redirect_url.clone()));
        let answer = inner.call(&call).await?;
        // Decode first: an answer that cannot be read leaves the cached state as it was.
        let action = decode(&answer.body, mvpd, &inner.base)?;
        self.fleet_load().await;
        self.forget_profile(mvpd);
        inner.state.preauthorized().retain(|(m, _), _| m != mvpd);
        inner.state.touch();
        if self.selected_mvpd().is_some_and(|m| m.id == mvpd) {
            match &inner.state.store {
                Some(store) => store.delete("selected_mvpd"),
                None => *inner.state.selected() = None,
            }
        }
        self.fleet_save().await;
        Ok(action)
    }
}
