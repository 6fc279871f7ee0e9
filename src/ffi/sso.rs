//! Single sign-on records: the partner framework status (with its errors and access status) and
//! the partner authentication request, with their conversions.

use super::core;

/// The user's permission as the partner framework reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PartnerAccessStatus {
    /// Allowed.
    Granted,
    /// Denied by the user.
    Denied,
    /// Not allowed for the app.
    Restricted,
    /// Not chosen yet.
    NotDetermined,
}

/// An error the partner framework reported.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartnerFrameworkError {
    /// The framework's code.
    pub code: String,
    /// The framework's message.
    pub message: String,
}

/// The partner framework's status (`AP-Partner-Framework-Status`). On Apple platforms the Swift
/// package builds it from VideoSubscriberAccount's answers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartnerFrameworkStatus {
    /// The user's permission.
    pub access_status: PartnerAccessStatus,
    /// The provider id the framework knows the MVPD by (`Mvpd.platformMappingId`).
    #[uniffi(default = None)]
    pub provider_id: Option<String>,
    /// When the framework login expires, ms since the epoch.
    #[uniffi(default = None)]
    pub expiration_ms: Option<i64>,
    /// The framework's error while asking for the permission.
    #[uniffi(default = None)]
    pub access_error: Option<PartnerFrameworkError>,
    /// The framework's error while asking for the provider.
    #[uniffi(default = None)]
    pub provider_error: Option<PartnerFrameworkError>,
}

impl From<&PartnerFrameworkStatus> for core::PartnerFrameworkStatus {
    fn from(s: &PartnerFrameworkStatus) -> Self {
        let error = |e: &Option<PartnerFrameworkError>| {
            e.as_ref().map(|e| core::PartnerFrameworkError {
                code: e.code.clone(),
                message: e.message.clone(),
            })
        };
        Self {
            access_status: match s.access_status {
                PartnerAccessStatus::Granted => core::PartnerAccessStatus::Granted,
                PartnerAccessStatus::Denied => core::PartnerAccessStatus::Denied,
                PartnerAccessStatus::Restricted => core::PartnerAccessStatus::Restricted,
                PartnerAccessStatus::NotDetermined => core::PartnerAccessStatus::NotDetermined,
            },
            access_error: error(&s.access_error),
            provider_id: s.provider_id.clone(),
            expiration_ms: s.expiration_ms,
            provider_error: error(&s.provider_error),
        }
    }
}

/// The `AP-Partner-Framework-Status` header value of a status (Base64-encoded JSON).
#[uniffi::export]
pub fn partner_framework_status_header(status: PartnerFrameworkStatus) -> String {
    core::PartnerFrameworkStatus::from(&status).header_value()
}

/// The partner authentication request for the partner framework.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartnerAuthenticationRequest {
    /// `saml`.
    pub protocol: String,
    /// The request (Apple: `VSAccountMetadataRequest.verificationToken`).
    pub request: String,
    /// The attributes to ask for (Apple: `attributeNames`).
    pub attribute_names: Vec<String>,
}
