import Foundation

/// The user's permission as Apple's VideoSubscriberAccount reports it; the raw values are those
/// of `VSAccountAccessStatus`, so `SubscriberAccountAccess(rawValue: status.rawValue)` works on
/// any platform.
public enum SubscriberAccountAccess: Int, Sendable {
    /// The user has not chosen yet.
    case notDetermined = 0
    /// The app may not access the subscription (e.g. restrictions).
    case restricted = 1
    /// The user denied access.
    case denied = 2
    /// The user granted access.
    case granted = 3
}

extension PartnerFrameworkStatus {
    /// The `AP-Partner-Framework-Status` record from what VideoSubscriberAccount answered:
    /// `checkAccessStatus` (status and error) and the metadata request
    /// (`accountProviderIdentifier`, `authenticationExpirationDate`, error). Hand it to
    /// `PassClient.partnerSession` and `PassClient.partnerProfile`.
    ///
    /// Without access, the provider information is left out, as the framework gives none.
    public static func fromSubscriberAccount(
        access: SubscriberAccountAccess,
        accessError: Error? = nil,
        accountProviderIdentifier: String? = nil,
        authenticationExpirationDate: Date? = nil,
        metadataError: Error? = nil
    ) -> PartnerFrameworkStatus {
        let granted = access == .granted
        let provider = accountProviderIdentifier.flatMap { $0.isEmpty ? nil : $0 }
        return PartnerFrameworkStatus(
            accessStatus: PartnerAccessStatus(access),
            providerId: granted ? provider : nil,
            expirationMs: granted ? authenticationExpirationDate.map(Self.milliseconds) : nil,
            accessError: accessError.map(PartnerFrameworkError.init(error:)),
            providerError: metadataError.map(PartnerFrameworkError.init(error:))
        )
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}

extension PartnerAccessStatus {
    /// The SDK's status for VideoSubscriberAccount's.
    public init(_ access: SubscriberAccountAccess) {
        switch access {
        case .notDetermined: self = .notDetermined
        case .restricted: self = .restricted
        case .denied: self = .denied
        case .granted: self = .granted
        }
    }
}

extension PartnerFrameworkError {
    /// The framework's error: its domain and code, and its description.
    public init(error: Error) {
        let ns = error as NSError
        self.init(code: "\(ns.domain) \(ns.code)", message: ns.localizedDescription)
    }
}

/// The partner name of Apple's single sign-on.
public let partnerApple = "Apple"

#if canImport(VideoSubscriberAccount) && (os(iOS) || os(tvOS))
import VideoSubscriberAccount

extension SubscriberAccountAccess {
    /// VideoSubscriberAccount's status.
    public init(_ status: VSAccountAccessStatus) {
        self = SubscriberAccountAccess(rawValue: status.rawValue) ?? .notDetermined
    }
}

extension PartnerFrameworkStatus {
    /// The record from `checkAccessStatus` and the answer to a `VSAccountMetadataRequest`.
    public static func from(
        accessStatus: VSAccountAccessStatus,
        accessError: Error? = nil,
        metadata: VSAccountMetadata?,
        metadataError: Error? = nil
    ) -> PartnerFrameworkStatus {
        fromSubscriberAccount(
            access: SubscriberAccountAccess(accessStatus),
            accessError: accessError,
            accountProviderIdentifier: metadata?.accountProviderIdentifier,
            authenticationExpirationDate: metadata?.authenticationExpirationDate,
            metadataError: metadataError
        )
    }
}

extension VSAccountMetadataRequest {
    /// Prepares the request for the partner authentication step: the SAML request as the
    /// verification token and the attributes to ask for (from `Session.authenticationRequest`).
    public func apply(_ request: PartnerAuthenticationRequest) {
        verificationToken = request.request
        attributeNames = request.attributeNames
    }
}
#endif
