//! Decisions: preauthorize (catalogue filtering, batched, Permits cached) and authorize (before
//! every playback, one resource, never cached).

use crate::client::{check_resource, check_segment, Call, PassClient};
use crate::error::{EnhancedError, PassError};
use crate::model::{de_opt_ms, Decision, DecisionSource, DenyReason, MediaToken};
use crate::secret::Secret;
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;

#[derive(Deserialize)]
struct Wire {
    decisions: Vec<WireDecision>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDecision {
    resource: String,
    #[serde(default)]
    mvpd: Option<String>,
    #[serde(default)]
    source: Option<String>,
    authorized: bool,
    #[serde(default)]
    token: Option<WireToken>,
    #[serde(default)]
    error: Option<EnhancedError>,
    #[serde(default, deserialize_with = "de_opt_ms")]
    not_after: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToken {
    serialized_token: String,
    #[serde(default, deserialize_with = "de_opt_ms")]
    not_before: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_ms")]
    not_after: Option<i64>,
}

fn source(s: Option<&str>) -> DecisionSource {
    match s.unwrap_or("mvpd") {
        "mvpd" => DecisionSource::Mvpd,
        "degradation" => DecisionSource::Degradation,
        "temppass" => DecisionSource::TempPass,
        "dummy" => DecisionSource::Dummy,
        other => DecisionSource::Other(other.to_string()),
    }
}

fn deny(resource: &str, mvpd: &str, src: DecisionSource, error: EnhancedError) -> Decision {
    Decision::Deny {
        resource: resource.to_string(),
        mvpd: mvpd.to_string(),
        source: src,
        reason: DenyReason::from_code(&error.code),
        error,
    }
}

/// Decodes a decisions answer.
pub(crate) fn decode(body: &[u8], mvpd: &str) -> Result<Vec<Decision>, PassError> {
    let w: Wire = serde_json::from_slice(body)
        .map_err(|e| PassError::Protocol(format!("unexpected decisions answer: {e}")))?;
    Ok(w.decisions
        .into_iter()
        .map(|d| {
            let m = d.mvpd.unwrap_or_else(|| mvpd.to_string());
            let src = source(d.source.as_deref());
            if d.authorized {
                Decision::Permit {
                    media_token: d.token.map(|t| MediaToken {
                        serialized: Secret::new(t.serialized_token),
                        not_before_ms: t.not_before.unwrap_or(0),
                        not_after_ms: t.not_after.unwrap_or(0),
                    }),
                    resource: d.resource,
                    mvpd: m,
                    source: src,
                    not_after_ms: d.not_after,
                }
            } else {
                let error = d.error.unwrap_or_else(|| EnhancedError {
                    code: "unknown_deny".into(),
                    message: "The resource was denied without an explanation.".into(),
                    status: 403,
                    action: "none".into(),
                    ..EnhancedError::default()
                });
                deny(&d.resource, &m, src, error)
            }
        })
        .collect())
}

/// A top-level error that is really a Deny for every resource (profile missing or expired,
/// TempPass over, ...); other errors stay errors.
fn as_denies(e: &PassError, resources: &[String], mvpd: &str) -> Option<Vec<Decision>> {
    let ee = e.enhanced()?;
    match DenyReason::from_code(&ee.code) {
        // Request and configuration problems stay errors: they are not about the user.
        DenyReason::Other(_)
        | DenyReason::PartnerUnavailable
        | DenyReason::Misconfigured { .. }
        | DenyReason::PartnerStatus { .. } => None,
        _ => Some(
            resources
                .iter()
                .map(|r| deny(r, mvpd, DecisionSource::Mvpd, ee.clone()))
                .collect(),
        ),
    }
}

impl PassClient {
    /// Drops the cached profile when the service says it is missing, expired or invalidated.
    async fn forget_profile_if_gone(&self, mvpd: &str, decisions: &[Decision]) {
        let gone = decisions.iter().any(|d| {
            matches!(
                d,
                Decision::Deny {
                    reason: DenyReason::ProfileMissing
                        | DenyReason::ProfileExpired
                        | DenyReason::ProfileInvalidated,
                    ..
                }
            )
        });
        if gone {
            self.fleet_load().await;
            self.forget_profile(mvpd);
            self.fleet_save().await;
        }
    }

    pub(crate) async fn decide(
        &self,
        kind: &str,
        mvpd: &str,
        resources: &[String],
        identity: Option<String>,
    ) -> Result<Vec<Decision>, PassError> {
        let inner = &self.inner;
        #[derive(serde::Serialize)]
        struct Body<'a> {
            resources: &'a [String],
        }
        let body = serde_json::to_vec(&Body { resources })
            .map_err(|e| PassError::Protocol(format!("cannot encode the request: {e}")))?;
        let mut call = Call::post(
            inner.path(&["decisions", kind, mvpd]),
            "application/json",
            body,
        );
        call.identity = identity;
        match inner.call(&call).await {
            Ok(answer) => {
                let ds = decode(&answer.body, mvpd)?;
                self.forget_profile_if_gone(mvpd, &ds).await;
                Ok(ds)
            }
            Err(e) => match as_denies(&e, resources, mvpd) {
                Some(ds) => {
                    self.forget_profile_if_gone(mvpd, &ds).await;
                    Ok(ds)
                }
                None => Err(e),
            },
        }
    }

    /// Authorization before playback of one resource. Never cached: ask before every playback.
    /// A Deny comes back as [`Decision::Deny`] with a typed reason, not as an error.
    pub async fn authorize(&self, mvpd: &str, resource: &str) -> Result<Decision, PassError> {
        check_segment("mvpd", mvpd)?;
        check_resource(resource)?;
        self.authorize_with(mvpd, resource, None).await
    }

    pub(crate) async fn authorize_with(
        &self,
        mvpd: &str,
        resource: &str,
        identity: Option<String>,
    ) -> Result<Decision, PassError> {
        let resources = vec![resource.to_string()];
        let mut ds = self.decide("authorize", mvpd, &resources, identity).await?;
        // The decision for the resource as sent. For an MRSS resource, the one decision of the
        // answer is that decision even where the service wrote the document back otherwise,
        // and it names the resource as sent.
        let mrss = resource.trim_start().starts_with('<');
        match ds.iter().position(|d| d.resource() == resource) {
            Some(i) => Ok(ds.swap_remove(i)),
            None if mrss && ds.len() == 1 => {
                let mut d = ds.remove(0);
                match &mut d {
                    Decision::Permit { resource: r, .. } | Decision::Deny { resource: r, .. } => {
                        *r = resource.to_string()
                    }
                }
                Ok(d)
            }
            None => Err(PassError::Protocol(
                "the answer has no decision for the resource".into(),
            )),
        }
    }

    /// Preauthorization of any number of resources, for filtering a catalogue only (never for
    /// playback). Split into batches of the configured size, at most the configured number in
    /// flight; Permits are cached in memory until their `notAfter`. Decisions come back in the
    /// order of `resources` (duplicates removed).
    pub async fn preauthorize(
        &self,
        mvpd: &str,
        resources: &[&str],
    ) -> Result<Vec<Decision>, PassError> {
        self.preauthorize_with(mvpd, resources, None).await
    }

    pub(crate) async fn preauthorize_with(
        &self,
        mvpd: &str,
        resources: &[&str],
        identity: Option<String>,
    ) -> Result<Vec<Decision>, PassError> {
        check_segment("mvpd", mvpd)?;
        // Duplicates go, in one pass, the first of each kept in its place.
        let mut seen = std::collections::HashSet::with_capacity(resources.len());
        let mut unique: Vec<String> = Vec::with_capacity(resources.len());
        for r in resources {
            check_resource(r)?;
            if seen.insert(*r) {
                unique.push(r.to_string());
            }
        }
        let inner = &self.inner;
        self.fleet_load().await;
        let now = inner.transport.clock().now_ms();
        let mut cached = Vec::new();
        let mut missing = Vec::new();
        {
            let mut cache = inner.state.preauthorized();
            cache.retain(|_, until| *until > now);
            for r in &unique {
                match cache.get(&(mvpd.to_string(), r.clone())) {
                    Some(until) => cached.push(Decision::Permit {
                        resource: r.clone(),
                        mvpd: mvpd.to_string(),
                        source: DecisionSource::Mvpd,
                        media_token: None,
                        not_after_ms: Some(*until),
                    }),
                    None => missing.push(r.clone()),
                }
            }
        }
        crate::telemetry::cache("permits", true, cached.len());
        crate::telemetry::cache("permits", false, missing.len());
        let batches: Vec<Vec<String>> = missing.chunks(inner.batch).map(|c| c.to_vec()).collect();
        let results: Vec<Result<Vec<Decision>, PassError>> = stream::iter(batches)
            .map(|b| {
                let identity = identity.clone();
                async move { self.decide("preauthorize", mvpd, &b, identity).await }
            })
            .buffer_unordered(inner.concurrency)
            .collect()
            .await;
        let mut fresh = Vec::new();
        for r in results {
            fresh.extend(r?);
        }
        {
            let mut cache = inner.state.preauthorized();
            for d in &fresh {
                if let Decision::Permit {
                    resource,
                    not_after_ms: Some(until),
                    ..
                } = d
                {
                    if *until > now {
                        cache.insert((mvpd.to_string(), resource.clone()), *until);
                    }
                }
            }
            crate::device::bound_permits(&mut cache);
        }
        inner.state.touch();
        if !fresh.is_empty() {
            self.fleet_save().await;
        }
        let order: std::collections::HashMap<&str, usize> = unique
            .iter()
            .enumerate()
            .map(|(i, r)| (r.as_str(), i))
            .collect();
        let mut all: Vec<Decision> = cached.into_iter().chain(fresh).collect();
        all.sort_by_key(|d| order.get(d.resource()).copied().unwrap_or(usize::MAX));
        Ok(all)
    }
}
