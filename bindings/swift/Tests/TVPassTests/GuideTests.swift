import Foundation
import XCTest
@testable import TVPass

// The code of the Swift guide (docs/swift.md), run against the emulator. Each block between
// `// guide: NAME` and `// end guide` appears in the guide as it is here; scripts/check-guides.py
// fails when they drift apart.

/// Collects the SDK's log lines, as an app's own logger would forward them.
final class AppLogger: Logger, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var lines: [String] = []
    func log(level: LogLevel, target: String, message: String) {
        lock.lock(); lines.append("\(level) \(target): \(message)"); lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return lines.count }
}

final class GuideTests: XCTestCase {
    private var shown: [String] = []

    private func showCode(_ code: String, url: String) {
        XCTAssertTrue(url.hasSuffix(code))
        Task { try await Emulator.complete(code) } // the user logs in on a second screen
    }
    private func play(with token: String) { XCTAssertFalse(token.isEmpty) }
    private func show(_ message: String, _ reason: DenyReason) { shown.append(message) }
    private func makeClient() throws -> PassClient {
        try PassClient(
            config: ClientConfig(
                baseUrl: Emulator.base, serviceProvider: "REF30",
                softwareStatement: "tvpass-emulator-software-statement",
                deviceInfo: DeviceInfo(primaryHardwareType: "SetTopBox", osName: "tvOS"), paceRequests: false),
            storage: DictionaryStorage())
    }

    func testGuideJourney() async throws {
        try await Emulator.reset()
        let baseUrl = Emulator.base // the app: "https://api.auth.adobe.com"
        let softwareStatement = "tvpass-emulator-software-statement"
        let storage = DictionaryStorage() // the app: KeychainStorage()
        // guide: journey
        let client = try PassClient(
            config: ClientConfig(
                baseUrl: baseUrl,
                serviceProvider: "REF30",
                softwareStatement: softwareStatement,
                deviceInfo: DeviceInfo(primaryHardwareType: "SetTopBox", model: "AppleTV", osName: "tvOS")
            ),
            storage: storage // requests go through URLSession (URLSessionTransport)
        )
        let session = try await client.createSession(mvpd: "Cablevision")
        if let code = session.code {
            showCode(code, url: client.authenticationUrl(code: code))
            _ = try await client.awaitProfile(session: session) // cancel the Task to stop polling
        }
        let decision = try await client.authorize(mvpd: "Cablevision", resource: "news")
        if let token = decision.mediaToken {
            play(with: token.serialized)
        } else if let reason = decision.denyReason, let error = decision.error {
            show(error.message, reason)
        }
        // end guide
        XCTAssertTrue(decision.isPermit)
        XCTAssertTrue(shown.isEmpty)
    }

    func testGuideErrorsAndDeny() async throws {
        try await Emulator.reset()
        let client = try makeClient()
        var loginNeeded = false
        // guide: errors
        do {
            let decision = try await client.authorize(mvpd: "Cablevision", resource: "news")
            switch decision.denyReason {
            case nil: break // a Permit: play
            case .profileMissing?: loginNeeded = true // log in first
            case let reason?: show(decision.error?.message ?? "", reason) // never retried
            }
        } catch PassError.Network, PassError.Timeout, PassError.Throttled {
            // retried already (at most 3 attempts in 30 s): offer to try again later
        } catch let PassError.InvalidConfiguration(setting, reason) {
            print("\(setting): \(reason)") // a bug in the app: fix the setting or argument
        }
        // end guide
        XCTAssertTrue(loginNeeded)
    }

    func testGuideLogsAndCancellation() async throws {
        try await Emulator.reset()
        let client = try makeClient()
        // guide: logs
        let logger = AppLogger() // on Apple platforms: OSLogLogger.install(level: .info)
        setLogger(logger: logger, level: .debug)
        // end guide
        defer { setLogger(logger: nil, level: .info) }
        let session = try await client.createSession(mvpd: "Cablevision")
        try await Emulator.complete(try XCTUnwrap(session.code))
        _ = try await client.awaitProfile(session: session)
        XCTAssertGreaterThan(logger.count, 3)
        try await Emulator.delayDecisions(ms: 3000)
        // guide: cancellation
        let task = Task { try await client.authorize(mvpd: "Cablevision", resource: "news") }
        task.cancel() // the request is abandoned at once; the Task throws CancellationError
        // end guide
        let result = await task.result
        guard case .failure(let error) = result, error is CancellationError else {
            return XCTFail("expected CancellationError, got \(result)")
        }
    }

    func testGuidePartnerSingleSignOn() async throws {
        try await Emulator.reset()
        let client = try makeClient()
        let expiry = Date().addingTimeInterval(86_400)
        // guide: partner
        // On iOS and tvOS: PartnerFrameworkStatus.from(accessStatus:metadata:) with VSAccountManager's answers.
        let status = PartnerFrameworkStatus.fromSubscriberAccount(
            access: .granted, accountProviderIdentifier: "Cablevision",
            authenticationExpirationDate: expiry)
        let session = try await client.partnerSession(partner: partnerApple, status: status)
        if session.action == .partnerProfile, let request = session.authenticationRequest {
            // VSAccountMetadataRequest().apply(request), then the framework answers:
            let saml = try await Emulator.partnerLogin(request: request.request)
            let profile = try await client.partnerProfile(partner: partnerApple, status: status, samlResponse: saml)
            XCTAssertEqual(profile?.profileType, .appleSso)
        }
        // end guide
        XCTAssertEqual(session.action, .partnerProfile)
    }
}
