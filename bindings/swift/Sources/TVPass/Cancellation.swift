import Foundation

extension PassClient {
    /// Polls until the user finished logging in (every 3 to 5 s). Cancelling the calling Task
    /// stops polling at once and throws `CancellationError`; the call also ends at the session's
    /// `notAfter` (`PassError.AuthenticationExpired`) or when a newer session replaces it
    /// (`PassError.SessionReplaced`).
    public func awaitProfile(session: Session, listener: PollListener? = nil) async throws -> Profile {
        let token = CancellationToken()
        return try await withTaskCancellationHandler {
            do {
                return try await awaitProfile(session: session, listener: listener, cancellation: token)
            } catch PassError.Cancelled {
                throw CancellationError()
            }
        } onCancel: {
            token.cancel()
        }
    }
}
