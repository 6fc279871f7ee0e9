//! Authentication sessions: create, resume, retrieve, the authentication URL, and polling for
//! the profile.

use crate::client::{check_segment, encode, Call, PassClient};
use crate::error::PassError;
use crate::model::{
    de_opt_ms, PartnerAuthenticationRequest, Profile, Session, SessionAction, SessionReason,
};
use crate::sso::SsoScope;
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default)]
    action_name: String,
    #[serde(default)]
    reason_type: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    mvpd: Option<String>,
    #[serde(default)]
    missing_parameters: Vec<String>,
    #[serde(default, deserialize_with = "de_opt_ms")]
    not_before: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_ms")]
    not_after: Option<i64>,
    #[serde(default)]
    authentication_request: Option<WireAuthenticationRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAuthenticationRequest {
    #[serde(default, rename = "type")]
    protocol: String,
    #[serde(default)]
    request: String,
    #[serde(default, alias = "attributeNames")]
    attributes_names: Vec<String>,
}

pub(crate) fn decode(body: &[u8], base: &str) -> Result<Session, PassError> {
    let w: Wire = serde_json::from_slice(body)
        .map_err(|e| PassError::Protocol(format!("unexpected session answer: {e}")))?;
    let action = match w.action_name.as_str() {
        "authenticate" => SessionAction::Authenticate,
        "resume" | "retry" => SessionAction::Resume,
        "authorize" => SessionAction::Authorize,
        "partner_profile" => SessionAction::PartnerProfile,
        other => SessionAction::Other(other.to_string()),
    };
    let reason = match w.reason_type.as_str() {
        "none" | "" => SessionReason::None,
        "authenticated" => SessionReason::Authenticated,
        "temporary" => SessionReason::Temporary,
        "degraded" => SessionReason::Degraded,
        "authenticatedSSO" => SessionReason::AuthenticatedSso,
        "pfs_fallback" => SessionReason::PartnerStatusFallback,
        "configuration_fallback" => SessionReason::ConfigurationFallback,
        "missing_parameters_fallback" => SessionReason::MissingParametersFallback,
        other => SessionReason::Other(other.to_string()),
    };
    Ok(Session {
        action,
        reason,
        code: w.code.filter(|c| !c.is_empty()),
        session_id: w.session_id,
        mvpd: w.mvpd,
        url: w.url.map(|u| {
            if u.starts_with('/') {
                format!("{base}{u}")
            } else {
                u
            }
        }),
        missing_parameters: w.missing_parameters,
        not_before_ms: w.not_before,
        not_after_ms: w.not_after,
        authentication_request: w
            .authentication_request
            .map(|r| PartnerAuthenticationRequest {
                protocol: r.protocol,
                request: r.request,
                attribute_names: r.attributes_names,
            }),
    })
}

/// Progress of [`PassClient::await_profile_with`].
pub trait PollObserver: Send + Sync {
    /// Called after each poll that found no profile yet.
    fn on_poll(&self, polls: u32);
}

impl PassClient {
    fn session_form(&self, mvpd: &str) -> Vec<u8> {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("mvpd", mvpd)
            .append_pair("domainName", &self.inner.domain_name)
            .append_pair("redirectUrl", &self.inner.redirect_url)
            .finish()
            .into_bytes()
    }

    /// Starts authentication with an MVPD. The answer says what to do next: open the
    /// authentication URL (show [`Session::code`] on a second screen), or go straight to
    /// decisions when a profile, TempPass or degradation already applies.
    ///
    /// A new session replaces the previous one: polling of the older code stops.
    pub async fn create_session(&self, mvpd: &str) -> Result<Session, PassError> {
        check_segment("mvpd", mvpd)?;
        let inner = &self.inner;
        inner
            .state
            .session_generation
            .fetch_add(1, Ordering::SeqCst);
        let mut call = Call::post(
            inner.path(&["sessions"]),
            "application/x-www-form-urlencoded",
            self.session_form(mvpd),
        );
        call.sso = SsoScope::IDENTITY;
        let answer = inner.call(&call).await?;
        let session = decode(&answer.body, &inner.base)?;
        // A new code's creation is now on the service's clock; an answer without a code
        // (a profile or TempPass already applies) may carry an older time.
        if let (Some(created), Some(_)) = (session.not_before_ms, &session.code) {
            inner.transport.clock().observe_created(created);
        }
        Ok(session)
    }

    /// Resumes a session whose parameters were missing (e.g. created on a device that could
    /// not provide them).
    pub async fn resume_session(&self, code: &str, mvpd: &str) -> Result<Session, PassError> {
        check_segment("code", code)?;
        check_segment("mvpd", mvpd)?;
        let inner = &self.inner;
        let mut call = Call::post(
            inner.path(&["sessions", code]),
            "application/x-www-form-urlencoded",
            self.session_form(mvpd),
        );
        call.sso = SsoScope::VISITOR;
        let answer = inner.call(&call).await?;
        decode(&answer.body, &inner.base)
    }

    /// What the service knows of a session (missing parameters, validity).
    pub async fn session(&self, code: &str) -> Result<Session, PassError> {
        check_segment("code", code)?;
        let inner = &self.inner;
        let mut call = Call::get(inner.path(&["sessions", code]));
        call.device_headers = false;
        call.sso = SsoScope::VISITOR;
        let answer = inner.call(&call).await?;
        let mut s = decode(&answer.body, &inner.base)?;
        s.code = Some(code.to_string());
        Ok(s)
    }

    /// The full URL a user agent opens to log in with this code (first or second screen).
    pub fn authentication_url(&self, code: &str) -> String {
        format!(
            "{}/api/v2/authenticate/{}/{}",
            self.inner.base,
            encode(&self.inner.sp),
            encode(code)
        )
    }

    /// Polls `profiles/code/{code}` at the polling interval (3 to 5 s) until the user finishes
    /// logging in. Ends with the profile; with [`PassError::AuthenticationExpired`] at the
    /// session's `notAfter`; with [`PassError::SessionReplaced`] when a newer session was
    /// created; or when the future is dropped (cancellation stops polling at once).
    pub async fn await_profile(&self, session: &Session) -> Result<Profile, PassError> {
        self.await_profile_with(session, None).await
    }

    /// [`await_profile`](Self::await_profile) with a progress observer.
    pub async fn await_profile_with(
        &self,
        session: &Session,
        observer: Option<&dyn PollObserver>,
    ) -> Result<Profile, PassError> {
        let code = session
            .code
            .as_deref()
            .ok_or_else(|| PassError::config("session", "the session has no code to poll"))?;
        let inner = &self.inner;
        let generation = inner.state.session_generation.load(Ordering::SeqCst);
        let mut polls = 0u32;
        loop {
            if inner.state.session_generation.load(Ordering::SeqCst) != generation {
                return Err(PassError::SessionReplaced);
            }
            if session
                .not_after_ms
                .is_some_and(|t| inner.transport.clock().now_ms() >= t)
            {
                return Err(PassError::AuthenticationExpired);
            }
            match self.profile_for_code(code).await {
                Ok(Some(p)) => return Ok(p),
                Ok(None) => {}
                Err(e)
                    if e.enhanced().is_some_and(|x| {
                        x.code == "invalid_authentication_session"
                            || x.code == "invalid_parameter_code"
                    }) =>
                {
                    return Err(PassError::AuthenticationExpired)
                }
                Err(e) => return Err(e),
            }
            polls += 1;
            if let Some(o) = observer {
                o.on_poll(polls);
            }
            let mut wait = inner.polling_interval;
            if let Some(t) = session.not_after_ms {
                let left = t.saturating_sub(inner.transport.clock().now_ms()).max(0);
                let left = Duration::from_millis(left as u64);
                wait = wait.min(left);
            }
            crate::time::sleep(wait).await;
        }
    }
}
