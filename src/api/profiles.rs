//! Profiles: all, by MVPD, by code; cached in memory and storage until `notAfter`.

use crate::client::{check_segment, Call, PassClient};
use crate::error::PassError;
use crate::model::{de_opt_ms, Attribute, Profile, ProfileType, TempPassInfo};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    profiles: HashMap<String, WireProfile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireProfile {
    #[serde(default, deserialize_with = "de_opt_ms")]
    not_before: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_ms")]
    not_after: Option<i64>,
    #[serde(default)]
    issuer: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    attributes: Option<HashMap<String, Value>>,
}

fn attribute(v: &Value) -> Attribute {
    let (value, state) = match v {
        Value::Object(o) if o.contains_key("value") => (
            o.get("value").cloned().unwrap_or(Value::Null),
            o.get("state").and_then(Value::as_str).unwrap_or("plain"),
        ),
        other => (other.clone(), "plain"),
    };
    Attribute {
        value: match value {
            Value::String(s) => s,
            other => other.to_string(),
        },
        encrypted: state == "enc",
    }
}

fn temp_pass_info(attrs: &BTreeMap<String, Attribute>) -> TempPassInfo {
    TempPassInfo {
        expiration_ms: attrs
            .get("expiration_date")
            .and_then(|a| a.value.trim().parse().ok()),
        remaining_resources: attrs
            .get("remaining_resources")
            .and_then(|a| a.value.trim().parse().ok()),
        used_assets: attrs
            .get("used_assets")
            .and_then(|a| serde_json::from_str::<Vec<String>>(&a.value).ok())
            .unwrap_or_default(),
    }
}

/// Decodes a `{"profiles": {...}}` answer.
pub(crate) fn decode(body: &[u8]) -> Result<Vec<Profile>, PassError> {
    let w: Wire = serde_json::from_slice(body)
        .map_err(|e| PassError::Protocol(format!("unexpected profiles answer: {e}")))?;
    let mut out: Vec<Profile> = w
        .profiles
        .into_iter()
        .map(|(mvpd, p)| {
            let attributes: BTreeMap<String, Attribute> = p
                .attributes
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (k.clone(), attribute(v)))
                .collect();
            let profile_type = ProfileType::from_wire(&p.kind);
            let temp_pass =
                (profile_type == ProfileType::Temporary).then(|| temp_pass_info(&attributes));
            Profile {
                mvpd,
                not_before_ms: p.not_before.unwrap_or(0),
                not_after_ms: p.not_after.unwrap_or(0),
                issuer: p.issuer,
                profile_type,
                attributes,
                temp_pass,
            }
        })
        .collect();
    out.sort_by(|a, b| a.mvpd.cmp(&b.mvpd));
    Ok(out)
}

impl PassClient {
    /// The profiles kept on the device that are still valid, without a request (what
    /// [`profiles`](Self::profiles) answers from when it may).
    pub fn cached_profiles(&self) -> Vec<Profile> {
        let now = self.inner.transport.clock().now_ms();
        self.retain_profiles(|p| p.not_after_ms > now)
    }

    /// Keeps the cached profiles `keep` accepts (storing the cache when one is dropped) and
    /// returns those kept.
    fn retain_profiles(&self, keep: impl Fn(&Profile) -> bool) -> Vec<Profile> {
        let mut cache = self.inner.state.profiles();
        let before = cache.len();
        cache.retain(|p| keep(p));
        if cache.len() != before {
            self.inner.state.save_profiles(&cache);
        }
        cache.clone()
    }

    /// Whether the cache can answer: no single sign-on identity is set, or this client has read
    /// the profiles from the service under the identities in force. Other apps of the same
    /// identity create and remove profiles that this device's cache cannot know of.
    fn cache_answers(&self) -> bool {
        let keys = self.identity_keys();
        !keys.any() || self.inner.state.profiles_checked().as_ref() == Some(&keys)
    }

    pub(crate) fn remember_profiles(&self, profiles: &[Profile], replace_all: bool) {
        let mut cache = self.inner.state.profiles();
        if replace_all {
            cache.clear();
        }
        for p in profiles {
            cache.retain(|c| c.mvpd != p.mvpd);
            cache.push(p.clone());
        }
        crate::device::bound_profiles(&mut cache);
        self.inner.state.save_profiles(&cache);
    }

    /// Drops the cached profiles of these types (those an identity that changed brought) and
    /// forgets under which identities the cache was read.
    pub(crate) fn forget_profiles_of(&self, types: &[ProfileType]) {
        *self.inner.state.profiles_checked() = None;
        self.retain_profiles(|c| !types.contains(&c.profile_type));
    }

    pub(crate) fn forget_profile(&self, mvpd: &str) {
        self.retain_profiles(|c| c.mvpd != mvpd);
    }

    /// The device's profiles. Served from the cache while a cached profile is still valid
    /// (profiles are kept until their `notAfter`, or until a Deny says one is gone), otherwise
    /// from the service. With a single sign-on identity set (platform identity, service token,
    /// partner status), the service is asked once per identity after the client is built or the
    /// identity changes, so that profiles other apps of the same identity created appear.
    pub async fn profiles(&self) -> Result<Vec<Profile>, PassError> {
        self.fleet_load().await;
        if self.cache_answers() {
            let cached = self.cached_profiles();
            crate::telemetry::cache("profiles", !cached.is_empty(), 1);
            if !cached.is_empty() {
                return Ok(cached);
            }
        }
        self.refresh_profiles().await
    }

    /// Asks the service for the device's profiles, bypassing the cache, and replaces the cache
    /// with the answer.
    pub async fn refresh_profiles(&self) -> Result<Vec<Profile>, PassError> {
        let inner = &self.inner;
        let keys = self.identity_keys();
        let answer = inner.call(&Call::get(inner.path(&["profiles"]))).await?;
        let profiles = decode(&answer.body)?;
        self.remember_profiles(&profiles, true);
        *inner.state.profiles_checked() = Some(keys);
        self.fleet_save().await;
        Ok(profiles)
    }

    /// The profile for one MVPD, from the cache while valid, otherwise from the service. With a
    /// single sign-on identity that this client has not read the profiles under, all profiles
    /// are read once (one request, as for [`profiles`](Self::profiles)).
    pub async fn profile(&self, mvpd: &str) -> Result<Option<Profile>, PassError> {
        check_segment("mvpd", mvpd)?;
        self.fleet_load().await;
        if !self.cache_answers() {
            let all = self.refresh_profiles().await?;
            return Ok(all.into_iter().find(|p| p.mvpd == mvpd));
        }
        let found = self.cached_profiles().into_iter().find(|p| p.mvpd == mvpd);
        crate::telemetry::cache("profiles", found.is_some(), 1);
        if found.is_some() {
            return Ok(found);
        }
        let inner = &self.inner;
        let answer = inner
            .call(&Call::get(inner.path(&["profiles", mvpd])))
            .await?;
        let found = decode(&answer.body)?.into_iter().find(|p| p.mvpd == mvpd);
        if let Some(p) = &found {
            self.remember_profiles(std::slice::from_ref(p), false);
            self.fleet_save().await;
        }
        Ok(found)
    }

    /// The profile created by the authentication session with this code; `None` while the user
    /// has not finished. One request; see [`PassClient::await_profile`] for polling.
    pub async fn profile_for_code(&self, code: &str) -> Result<Option<Profile>, PassError> {
        check_segment("code", code)?;
        let inner = &self.inner;
        let mut call = Call::get(inner.path(&["profiles", "code", code]));
        call.device_headers = false;
        call.sso = crate::sso::SsoScope::VISITOR;
        let answer = inner.call(&call).await?;
        let found = decode(&answer.body)?.into_iter().next();
        if let Some(p) = &found {
            self.fleet_load().await;
            self.remember_profiles(std::slice::from_ref(p), false);
            self.fleet_save().await;
        }
        Ok(found)
    }
}
