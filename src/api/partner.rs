//! Partner single sign-on (Apple): `POST /api/v2/{sp}/sessions/sso/{partner}` (retrieve the
//! partner authentication request) and `POST /api/v2/{sp}/profiles/sso/{partner}` (create the
//! profile from the partner authentication response).

use crate::client::{check_segment, Call, PassClient};
use crate::error::PassError;
use crate::model::{Profile, Session};
use crate::registration::now_ms;
use crate::sso::{encode_saml_response, PartnerFrameworkStatus, SsoScope};
use std::sync::atomic::Ordering;

/// The largest partner authentication response accepted (its XML text).
const MAX_SAML_RESPONSE: usize = 256 * 1024;

impl PassClient {
    fn partner_call(&self, segments: &[&str], body: Vec<u8>) -> Call {
        let mut call = Call::post(
            self.inner.path(segments),
            "application/x-www-form-urlencoded",
            body,
        );
        call.sso = SsoScope::PARTNER;
        call
    }

    /// Starts partner single sign-on: one request with the framework's status. The answer's
    /// [`Session::action`] says what comes next:
    ///
    /// - [`SessionAction::PartnerProfile`](crate::SessionAction::PartnerProfile): hand
    ///   [`Session::authentication_request`] to the partner framework, then its SAML response
    ///   to [`partner_profile`](Self::partner_profile);
    /// - `Authorize`: a profile already applies; go to decisions;
    /// - `Authenticate` or `Resume` with a fallback [`Session::reason`]: partner single sign-on
    ///   cannot be used; continue with the basic flow (the session has a code to poll with
    ///   [`await_profile`](Self::await_profile)).
    ///
    /// A status that names a provider without an expiration date is refused before any request
    /// ([`PassError::InvalidConfiguration`] naming `partner_framework_status`): the header's page
    /// requires it.
    ///
    /// The status is kept and sent on later profile and decision calls (see
    /// [`set_partner_framework_status`](Self::set_partner_framework_status)). Like
    /// [`create_session`](Self::create_session), it replaces a session being polled.
    pub async fn partner_session(
        &self,
        partner: &str,
        status: &PartnerFrameworkStatus,
    ) -> Result<Session, PassError> {
        check_segment("partner", partner)?;
        // A status without a provider is sent (the service answers with a fallback to the basic
        // flow); one with a provider but no expiration date is refused here.
        self.set_partner_framework_status(Some(status))?;
        let inner = &self.inner;
        inner
            .state
            .session_generation
            .fetch_add(1, Ordering::SeqCst);
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("domainName", &inner.domain_name)
            .append_pair("redirectUrl", &inner.redirect_url)
            .finish()
            .into_bytes();
        let call = self.partner_call(&["sessions", "sso", partner], form);
        let answer = inner.call(&call).await?;
        crate::api::sessions::decode(&answer.body, &inner.base)
    }

    /// Creates the profile from the partner's authentication response: `saml_response` is the
    /// response text exactly as the framework gives it (for Apple,
    /// `VSAccountMetadata.samlAttributeQueryResponse`); the SDK normalises and encodes it.
    /// The profile is kept like any other. `Ok(None)` when the service answered with no
    /// profile (partner single sign-on is not configured for the MVPD: use the basic flow).
    ///
    /// A status that cannot succeed (not granted, no provider, no expiration date, expired) is
    /// refused on the device with [`PassError::InvalidConfiguration`] naming
    /// `partner_framework_status`: no request is sent.
    pub async fn partner_profile(
        &self,
        partner: &str,
        status: &PartnerFrameworkStatus,
        saml_response: &str,
    ) -> Result<Option<Profile>, PassError> {
        check_segment("partner", partner)?;
        if let Some(problem) = status.problem(now_ms()) {
            return Err(PassError::config(
                "partner_framework_status",
                problem.to_string(),
            ));
        }
        if saml_response.trim().is_empty() || saml_response.len() > MAX_SAML_RESPONSE {
            return Err(PassError::config(
                "saml_response",
                "must be 1 byte to 256 KiB of text",
            ));
        }
        self.set_partner_framework_status(Some(status))?;
        let inner = &self.inner;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("SAMLResponse", &encode_saml_response(saml_response))
            .finish()
            .into_bytes();
        let call = self.partner_call(&["profiles", "sso", partner], form);
        let answer = inner.call(&call).await?;
        // The map holds the one profile of the framework's provider.
        let found = crate::api::profiles::decode(&answer.body)?
            .into_iter()
            .next();
        if let Some(p) = &found {
            self.fleet_load().await;
            self.remember_profiles(std::slice::from_ref(p), false);
            self.partner_profile_checked();
            self.fleet_save().await;
        }
        Ok(found)
    }

    /// The partner's profile is what the service has for the partner status: the cache is as
    /// good as read under it, unless another identity still waits to be read under.
    fn partner_profile_checked(&self) {
        let keys = self.identity_keys();
        let mut checked = self.inner.state.profiles_checked();
        if checked.clone().unwrap_or_default().same_but_partner(&keys) {
            *checked = Some(keys);
        }
    }
}
