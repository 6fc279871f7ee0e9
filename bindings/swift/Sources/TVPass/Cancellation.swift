import Foundation

// Every async call of the client ends as soon as its Task is cancelled: the Rust call is
// abandoned at once (its request is dropped, nothing more is written) and `CancellationError`
// is thrown. uniffi's generated async methods do not observe Task cancellation, so each has a
// twin here without the `cancellation:` argument that hands the Rust side a token cancelled by
// the Task. Swift picks these (they need no defaulted argument) for the plain call.

extension PassClient {
    /// Runs `call` with a token that the current Task's cancellation cancels.
    func cancellable<T>(_ call: (CancellationToken) async throws -> T) async throws -> T {
        let token = CancellationToken()
        return try await withTaskCancellationHandler {
            do {
                return try await call(token)
            } catch PassError.Cancelled {
                throw CancellationError()
            }
        } onCancel: {
            token.cancel()
        }
    }

    /// The configuration (cached 150 s).
    public func configuration() async throws -> Configuration {
        try await cancellable { try await configuration(cancellation: $0) }
    }

    /// Starts authentication with an MVPD.
    public func createSession(mvpd: String) async throws -> Session {
        try await cancellable { try await createSession(mvpd: mvpd, cancellation: $0) }
    }

    /// Resumes a session with missing parameters.
    public func resumeSession(code: String, mvpd: String) async throws -> Session {
        try await cancellable { try await resumeSession(code: code, mvpd: mvpd, cancellation: $0) }
    }

    /// Polls until the user finished logging in (every 3 to 5 s). Cancelling the calling Task
    /// stops polling at once and throws `CancellationError`; the call also ends at the session's
    /// `notAfter` (`PassError.AuthenticationExpired`) or when a newer session replaces it
    /// (`PassError.SessionReplaced`).
    public func awaitProfile(session: Session) async throws -> Profile {
        try await cancellable { try await awaitProfile(session: session, listener: nil, cancellation: $0) }
    }

    /// `awaitProfile(session:)` with a listener told of each poll.
    public func awaitProfile(session: Session, listener: PollListener?) async throws -> Profile {
        try await cancellable { try await awaitProfile(session: session, listener: listener, cancellation: $0) }
    }

    /// The device's profiles (cached while valid).
    public func profiles() async throws -> [Profile] {
        try await cancellable { try await profiles(cancellation: $0) }
    }

    /// The profile for one MVPD.
    public func profile(mvpd: String) async throws -> Profile? {
        try await cancellable { try await profile(mvpd: mvpd, cancellation: $0) }
    }

    /// Authorization before playback.
    public func authorize(mvpd: String, resource: String) async throws -> Decision {
        try await cancellable { try await authorize(mvpd: mvpd, resource: resource, cancellation: $0) }
    }

    /// Preauthorization for the catalogue.
    public func preauthorize(mvpd: String, resources: [String]) async throws -> [Decision] {
        try await cancellable { try await preauthorize(mvpd: mvpd, resources: resources, cancellation: $0) }
    }

    /// Basic TempPass authorization.
    public func authorizeTempPass(mvpd: String, resource: String) async throws -> Decision {
        try await cancellable {
            try await authorizeTempPass(mvpd: mvpd, resource: resource, email: nil, cancellation: $0)
        }
    }

    /// Promotional TempPass authorization (the e-mail is hashed on the device).
    public func authorizeTempPass(mvpd: String, resource: String, email: String?) async throws -> Decision {
        try await cancellable {
            try await authorizeTempPass(mvpd: mvpd, resource: resource, email: email, cancellation: $0)
        }
    }

    /// Basic TempPass metadata.
    public func tempPassInfo(mvpd: String) async throws -> TempPassInfo? {
        try await cancellable { try await tempPassInfo(mvpd: mvpd, email: nil, cancellation: $0) }
    }

    /// Promotional TempPass metadata.
    public func tempPassInfo(mvpd: String, email: String?) async throws -> TempPassInfo? {
        try await cancellable { try await tempPassInfo(mvpd: mvpd, email: email, cancellation: $0) }
    }

    /// Logout on the user's request.
    public func logout(mvpd: String) async throws -> LogoutAction {
        try await cancellable { try await logout(mvpd: mvpd, cancellation: $0) }
    }

    /// Partner single sign-on, step 1.
    public func partnerSession(partner: String, status: PartnerFrameworkStatus) async throws -> Session {
        try await cancellable { try await partnerSession(partner: partner, status: status, cancellation: $0) }
    }

    /// Partner single sign-on, step 2.
    public func partnerProfile(
        partner: String, status: PartnerFrameworkStatus, samlResponse: String
    ) async throws -> Profile? {
        try await cancellable {
            try await partnerProfile(partner: partner, status: status, samlResponse: samlResponse, cancellation: $0)
        }
    }
}

// A Decision read by name: `decision.mediaToken`, `decision.denyReason`, `decision.error`.
extension Decision {
    /// The resource decided on.
    public var resource: String {
        switch self {
        case let .permit(resource: resource, mvpd: _, source: _, mediaToken: _, notAfterMs: _): return resource
        case let .deny(resource: resource, mvpd: _, source: _, reason: _, error: _): return resource
        }
    }

    /// The MVPD.
    public var mvpd: String {
        switch self {
        case let .permit(resource: _, mvpd: mvpd, source: _, mediaToken: _, notAfterMs: _): return mvpd
        case let .deny(resource: _, mvpd: mvpd, source: _, reason: _, error: _): return mvpd
        }
    }

    /// Whether the resource may be played.
    public var isPermit: Bool {
        if case .permit = self { return true }
        return false
    }

    /// The media token of an authorize Permit (hand `serialized` to the player).
    public var mediaToken: MediaToken? {
        if case let .permit(resource: _, mvpd: _, source: _, mediaToken: token, notAfterMs: _) = self { return token }
        return nil
    }

    /// Why a Deny was given.
    public var denyReason: DenyReason? {
        if case let .deny(resource: _, mvpd: _, source: _, reason: reason, error: _) = self { return reason }
        return nil
    }

    /// The service's error of a Deny (show `message`).
    public var error: EnhancedError? {
        if case let .deny(resource: _, mvpd: _, source: _, reason: _, error: error) = self { return error }
        return nil
    }
}
