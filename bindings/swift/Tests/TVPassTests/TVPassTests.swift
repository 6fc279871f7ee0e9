import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import TVPass

/// A Storage in a dictionary, as an app would keep it in the Keychain.
final class DictionaryStorage: Storage, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [String: String] = [:]
    func get(key: String) -> String? { lock.lock(); defer { lock.unlock() }; return values[key] }
    func set(key: String, value: String) { lock.lock(); values[key] = value; lock.unlock() }
    func remove(key: String) { lock.lock(); values[key] = nil; lock.unlock() }
    var keys: [String] { lock.lock(); defer { lock.unlock() }; return Array(values.keys) }
}

final class Counter: PollListener, @unchecked Sendable {
    private let lock = NSLock()
    private var polls: UInt32 = 0
    func onPoll(polls: UInt32) { lock.lock(); self.polls = polls; lock.unlock() }
    var value: UInt32 { lock.lock(); defer { lock.unlock() }; return polls }
}

/// The emulator's admin API.
enum Emulator {
    static let base: String = ProcessInfo.processInfo.environment["TVPASS_EMULATOR"] ?? "http://127.0.0.1:8080"

    @discardableResult
    static func send(_ method: String, _ path: String, _ body: String = "") async throws -> Data {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "content-type")
        request.httpBody = body.data(using: .utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as! HTTPURLResponse).statusCode
        XCTAssertLessThan(status, 300, "admin \(path)")
        return data
    }

    static func reset() async throws { try await send("POST", "/__emulator/reset") }
    static func complete(_ code: String) async throws {
        try await send("POST", "/__emulator/sessions/\(code)/complete", "{\"attributes\": {\"zip\": \"10001\"}}")
    }
    /// The emulated partner framework: the user logs in with the MVPD of the request.
    static func partnerLogin(request: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["request": request, "attributes": ["zip": "10001"]])
        let data = try await send("POST", "/__emulator/partners/Apple/login", String(data: body, encoding: .utf8)!)
        let answer = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return answer["samlResponse"] as! String
    }
    /// Answers the next decision with the enhanced error `code` at top level (its status, e.g. 403).
    static func topLevelDecisionError(_ code: String) async throws {
        try await send("POST", "/__emulator/faults",
                       "{\"path\": \"/api/v2/REF30/decisions\", \"fault\": {\"kind\": \"top_level_error\", \"code\": \"\(code)\"}, \"remaining\": 1}")
    }
    /// Holds the next decision answer for `ms` milliseconds.
    static func delayDecisions(ms: Int) async throws {
        try await send("POST", "/__emulator/faults",
                       "{\"path\": \"/api/v2/REF30/decisions\", \"fault\": {\"kind\": \"delay\", \"ms\": \(ms)}, \"remaining\": 1}")
    }
    static func advance(seconds: Int) async throws { try await send("POST", "/__emulator/clock/advance", "{\"seconds\": \(seconds)}") }
    /// Sets the emulator's clock `ms` from real time: the service as a device whose clock is off by `-ms` sees it.
    static func skewClock(ms: Int64) async throws { try await send("PUT", "/__emulator/clock/skew", "{\"ms\": \(ms)}") }
    static func count(_ prefix: String) async throws -> Int {
        let data = try await send("GET", "/__emulator/requests")
        let log = try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return log.filter { ($0["path"] as! String).hasPrefix(prefix) }.count
    }
}

final class TVPassTests: XCTestCase {
    func config(baseUrl: String = Emulator.base) -> ClientConfig {
        ClientConfig(
            baseUrl: baseUrl,
            serviceProvider: "REF30",
            softwareStatement: "tvpass-emulator-software-statement",
            deviceInfo: DeviceInfo(primaryHardwareType: "SetTopBox", osName: "tvOS"),
            paceRequests: false
        )
    }

    func login(_ client: PassClient, _ mvpd: String) async throws {
        let session = try await client.createSession(mvpd: mvpd)
        XCTAssertEqual(session.action, .authenticate)
        try await Emulator.complete(session.code!)
        let profile = try await client.awaitProfile(session: session)
        XCTAssertEqual(profile.mvpd, mvpd)
    }

    func testUnavailableSaysWhenTheNextProbeGoes() {
        // Thrown by a server's PassService while it fails fast; a device's client never throws it.
        let error: Error = PassError.Unavailable(retryAfterMs: 1500)
        guard case PassError.Unavailable(let retryAfterMs) = error else {
            return XCTFail("not Unavailable: \(error)")
        }
        XCTAssertEqual(retryAfterMs, 1500)
    }

    func testRegisterLoginAndAuthorizeWithPermit() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        let configuration = try await client.configuration()
        XCTAssertEqual(configuration.pickerMvpds.map { $0.id }, ["Cablevision", "Spectrum"])
        try await login(client, "Cablevision")
        let decision = try await client.authorize(mvpd: "Cablevision", resource: "news")
        let mediaToken = try XCTUnwrap(decision.mediaToken, "a Permit with a media token")
        XCTAssertFalse(mediaToken.serialized.isEmpty)
        let profiles = try await client.profiles()
        XCTAssertEqual(profiles.first?.attributes["zip"]?.value, "10001")
        // Printing a decision or a profile shows neither the media token nor a user identifier.
        let userId = try XCTUnwrap(profiles.first?.attributes["userID"]?.value)
        XCTAssertGreaterThanOrEqual(userId.count, 8)
        var dumped = ""
        dump(decision, to: &dumped)
        dump(profiles, to: &dumped)
        let printed = [String(describing: decision), String(reflecting: decision),
                       String(describing: profiles), String(reflecting: profiles), dumped]
        for text in printed {
            XCTAssertFalse(text.contains(mediaToken.serialized), "the media token in \(text)")
            XCTAssertFalse(text.contains(userId), "a user identifier in \(text)")
        }
        guard case .openUrl = try await client.logout(mvpd: "Cablevision") else { return XCTFail("expected OpenUrl") }
        let registrations = try await Emulator.count("/o/client/register")
        XCTAssertEqual(registrations, 1)
    }

    func testEachDenyReasonIsASwiftCase() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        let missing = try await client.authorize(mvpd: "Cablevision", resource: "news")
        XCTAssertEqual(missing.denyReason, .profileMissing)
        // The same Deny when the error comes at top level (403) instead of inside the item.
        try await Emulator.topLevelDecisionError("authenticated_profile_missing")
        let topLevel = try await client.authorize(mvpd: "Cablevision", resource: "news")
        XCTAssertEqual(topLevel.denyReason, .profileMissing)
        XCTAssertEqual(topLevel.error?.status, 403)
        try await login(client, "Cablevision")
        try await login(client, "Spectrum")
        let cases: [(String, String, DenyReason)] = [
            ("Cablevision", "late-night", .parentalControls),
            ("Cablevision", "cooking", .deniedByMvpd),
            ("Spectrum", "premium", .hbaPolicies),
        ]
        for (mvpd, resource, want) in cases {
            let d = try await client.authorize(mvpd: mvpd, resource: resource)
            XCTAssertEqual(d.denyReason, want, resource)
            XCTAssertFalse(try XCTUnwrap(d.error).message.isEmpty)
        }
    }

    func testPromotionalTempPass() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        XCTAssertEqual(try tempPassIdentityHash(identifier: "User@Domain.com"),
                       "f7ee5ec7312165148b69fcca1d29075b14b8aef0b5048a332b18b88d09069fb7")
        for resource in ["a", "b", "c"] {
            guard case .permit = try await client.authorizeTempPass(mvpd: "TempPass_Promo", resource: resource, email: "user@domain.com") else {
                return XCTFail("expected a Permit for \(resource)")
            }
        }
        let over = try await client.authorizeTempPass(mvpd: "TempPass_Promo", resource: "d", email: "user@domain.com")
        XCTAssertEqual(over.denyReason, .tempPassResourcesExceeded)
    }

    /// A resource as the decisions page defines one: an MRSS document with a rating, on several lines.
    let rated = """
        <rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
            <channel>
                <title>REF30</title>
                <media:rating scheme="urn:mpaa">pg</media:rating>
            </channel>
        </rss>
        """

    /// An episode of `bytes` bytes: an item with its guid and a v-chip rating, padded with spaces.
    func episode(_ channel: String, _ bytes: Int) -> String {
        let head = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">\n\t<channel>\n"
            + "\t\t<title>\(channel)</title>\n\t\t<item>\n\t\t\t<title>The Pilot</title>\n"
            + "\t\t\t<guid>urn:\(channel):episode:1</guid>\n"
            + "\t\t\t<media:rating scheme=\"urn:v-chip\">tv-14</media:rating>\n\t\t</item>\n"
        let tail = "\t</channel>\n</rss>"
        return head + String(repeating: " ", count: bytes - head.utf8.count - tail.utf8.count) + tail
    }

    func testMRSSResourcesAreAuthorizedAsWritten() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        try await login(client, "Cablevision")
        let large = episode("REF30", 4096)
        for resource in [rated, episode("REF30", 289), large] {
            let d = try await client.authorize(mvpd: "Cablevision", resource: resource)
            XCTAssertTrue(d.isPermit, resource)
            XCTAssertEqual(d.resource, resource)
        }
        let late = episode("late-night", 400)
        let pre = try await client.preauthorize(mvpd: "Cablevision", resources: [rated, large, late])
        XCTAssertEqual(pre.map(\.resource), [rated, large, late])
        XCTAssertEqual(pre.map(\.isPermit), [true, true, false])
        XCTAssertEqual(pre[2].denyReason, .parentalControls)
        let basic = try await client.authorizeTempPass(mvpd: "TempPass_10min", resource: rated, email: nil)
        XCTAssertTrue(basic.isPermit)
        let promo = try await client.authorizeTempPass(mvpd: "TempPass_Promo", resource: large, email: "user@domain.com")
        XCTAssertTrue(promo.isPermit)
        do {
            _ = try await client.authorize(mvpd: "Cablevision", resource: episode("REF30", 8 * 1024 + 1))
            XCTFail("expected a refusal")
        } catch let PassError.InvalidConfiguration(setting, _) {
            XCTAssertEqual(setting, "resource")
        }
    }

    func testADeviceClockAnHourOrADayOffStillLogsIn() async throws {
        let hour: Int64 = 3_600_000
        for deviceOffset in [hour, 24 * hour, -hour, -24 * hour] {
            try await Emulator.reset()
            try await Emulator.skewClock(ms: -deviceOffset)
            let client = try PassClient(config: config(), storage: DictionaryStorage())
            try await login(client, "Cablevision")
            let asked = try await Emulator.count("/api/v2/REF30/profiles")
            let profiles = try await client.profiles()
            XCTAssertEqual(profiles.count, 1)
            let askedAfter = try await Emulator.count("/api/v2/REF30/profiles")
            XCTAssertEqual(askedAfter, asked, "the profile is kept (\(deviceOffset) ms)")
            _ = try await client.preauthorize(mvpd: "Cablevision", resources: ["news", "sports"])
            let before = try await Emulator.count("/api/v2/REF30/decisions")
            let again = try await client.preauthorize(mvpd: "Cablevision", resources: ["news", "sports"])
            XCTAssertEqual(again.map(\.isPermit), [true, true])
            let after = try await Emulator.count("/api/v2/REF30/decisions")
            XCTAssertEqual(after, before, "the Permits are kept (\(deviceOffset) ms)")
            let d = try await client.authorize(mvpd: "Cablevision", resource: "news")
            XCTAssertTrue(d.isPermit)
        }
        try await Emulator.reset()
    }

    func testSwiftStoragePersistsAcrossTwoClients() async throws {
        try await Emulator.reset()
        let storage = DictionaryStorage()
        let first = try PassClient(config: config(), storage: storage)
        try await login(first, "Cablevision")
        let before = try await Emulator.count("/o/client/")
        let second = try PassClient(config: config(), storage: storage)
        guard case .permit = try await second.authorize(mvpd: "Cablevision", resource: "news") else {
            return XCTFail("expected a Permit")
        }
        let after = try await Emulator.count("/o/client/")
        XCTAssertEqual(before, after, "no DCR call after a restart")
        XCTAssertTrue(storage.keys.contains { $0.hasSuffix("credentials") })
    }

    func testCancellingTheTaskStopsPolling() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        let session = try await client.createSession(mvpd: "Cablevision")
        let counter = Counter()
        let task = Task { try await client.awaitProfile(session: session, listener: counter) }
        try await Task.sleep(nanoseconds: 500_000_000)
        task.cancel()
        _ = await task.result
        let polls = try await Emulator.count("/api/v2/REF30/profiles/code")
        try await Task.sleep(nanoseconds: 3_500_000_000)
        let later = try await Emulator.count("/api/v2/REF30/profiles/code")
        XCTAssertEqual(polls, later, "the emulator saw polling stop")
        XCTAssertEqual(counter.value, 1)
    }

    func testErrorsAreSwiftErrors() async throws {
        try await Emulator.reset()
        XCTAssertThrowsError(try PassClient(config: config(baseUrl: "http://example.com"), storage: nil)) { error in
            guard case let PassError.InvalidConfiguration(setting, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(setting, "environment")
        }
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        do {
            _ = try await client.authorize(mvpd: "NoSuchMvpd", resource: "news")
            XCTFail("expected an error")
        } catch let PassError.Server(status, error) {
            XCTAssertEqual(status, 400)
            XCTAssertEqual(error?.code, "invalid_integration")
        }
    }

    func testSubscriberAccountStatusMapsToTheFrameworkStatus() throws {
        let expiry = Date(timeIntervalSince1970: 2_000_000_000.5)
        let granted = PartnerFrameworkStatus.fromSubscriberAccount(
            access: .granted, accountProviderIdentifier: "Cablevision", authenticationExpirationDate: expiry)
        XCTAssertEqual(granted.accessStatus, .granted)
        XCTAssertEqual(granted.providerId, "Cablevision")
        XCTAssertEqual(granted.expirationMs, 2_000_000_000_500)
        // The raw values are VSAccountAccessStatus's.
        XCTAssertEqual(SubscriberAccountAccess(rawValue: 0), .notDetermined)
        XCTAssertEqual(SubscriberAccountAccess(rawValue: 3), .granted)
        let denied = PartnerFrameworkStatus.fromSubscriberAccount(
            access: .denied, accountProviderIdentifier: "Cablevision", authenticationExpirationDate: expiry)
        XCTAssertEqual(denied.accessStatus, .denied)
        XCTAssertNil(denied.providerId, "no provider information without access")
        XCTAssertNil(denied.expirationMs)
        let failed = PartnerFrameworkStatus.fromSubscriberAccount(
            access: .notDetermined,
            accessError: NSError(domain: "VSErrorDomain", code: 2, userInfo: [NSLocalizedDescriptionKey: "not now"]),
            accountProviderIdentifier: "")
        XCTAssertEqual(failed.accessStatus, .notDetermined)
        XCTAssertEqual(failed.accessError, PartnerFrameworkError(code: "VSErrorDomain 2", message: "not now"))
        XCTAssertNil(failed.providerId)
        // The header is the documented Base64-encoded JSON.
        let header = partnerFrameworkStatusHeader(status: granted)
        let json = try JSONSerialization.jsonObject(with: Data(base64Encoded: header)!) as! [String: [String: Any]]
        XCTAssertEqual(json["frameworkPermissionInfo"]?["accessStatus"] as? String, "granted")
        XCTAssertEqual(json["frameworkProviderInfo"]?["expirationDate"] as? String, "2000000000500")
    }

    func testApplePartnerSingleSignOnAgainstTheEmulator() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        let configuration = try await client.configuration()
        XCTAssertEqual(configuration.platformPickerIds, ["Cablevision", "spectrum"])
        let mvpd = configuration.mvpds.first { $0.platformMappingId == "Cablevision" }!
        XCTAssertEqual(mvpd.boardingStatus, "SUPPORTED")
        let status = PartnerFrameworkStatus.fromSubscriberAccount(
            access: .granted, accountProviderIdentifier: mvpd.platformMappingId,
            authenticationExpirationDate: Date().addingTimeInterval(86_400))

        let session = try await client.partnerSession(partner: partnerApple, status: status)
        XCTAssertEqual(session.action, .partnerProfile)
        let request = try XCTUnwrap(session.authenticationRequest)
        XCTAssertEqual(request.attributeNames, ["uid", "NameID", "uniqueId"])
        let saml = try await Emulator.partnerLogin(request: request.request)
        let profile = try await client.partnerProfile(partner: partnerApple, status: status, samlResponse: saml)
        XCTAssertEqual(profile?.profileType, .appleSso)
        XCTAssertEqual(profile?.mvpd, "Cablevision")
        guard case .permit = try await client.authorize(mvpd: "Cablevision", resource: "news") else {
            return XCTFail("expected a permit")
        }
        // register, token, configuration, partner session, partner profile, authorize
        let requests = try await Emulator.count("/")
        XCTAssertEqual(requests, 6)
        let logout = try await client.logout(mvpd: "Cablevision")
        XCTAssertEqual(logout, .partnerLogout)

        // A denied status falls back to the basic flow, and a hopeless one sends nothing.
        let denied = PartnerFrameworkStatus.fromSubscriberAccount(access: .denied)
        let fallback = try await client.partnerSession(partner: partnerApple, status: denied)
        XCTAssertEqual(fallback.reason, "pfs_fallback")
        let before = try await Emulator.count("/")
        do {
            _ = try await client.partnerProfile(partner: partnerApple, status: denied, samlResponse: saml)
            XCTFail("expected an error")
        } catch let PassError.InvalidConfiguration(setting, _) {
            XCTAssertEqual(setting, "partner_framework_status")
        }
        let after = try await Emulator.count("/")
        XCTAssertEqual(after, before)
    }

    func testCancellingAnAuthorizeEndsItPromptlyAndTheNextCallWorks() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: DictionaryStorage())
        try await login(client, "Cablevision")
        try await Emulator.delayDecisions(ms: 3000)
        let task = Task { try await client.authorize(mvpd: "Cablevision", resource: "news") }
        try await Task.sleep(nanoseconds: 300_000_000)
        let cancelledAt = Date()
        task.cancel()
        let result = await task.result
        let took = Date().timeIntervalSince(cancelledAt)
        XCTAssertLessThan(took, 0.1, "the call ended \(took) s after the cancellation")
        guard case .failure(let error) = result, error is CancellationError else {
            return XCTFail("expected CancellationError, got \(result)")
        }
        // The next call works, and reads by name.
        let decision = try await client.authorize(mvpd: "Cablevision", resource: "news")
        XCTAssertTrue(decision.isPermit)
        XCTAssertEqual(decision.resource, "news")
        XCTAssertFalse(try XCTUnwrap(decision.mediaToken).serialized.isEmpty)
        XCTAssertNil(decision.denyReason)
        let deny = try await client.authorize(mvpd: "Cablevision", resource: "late-night")
        XCTAssertEqual(deny.denyReason, .parentalControls)
        XCTAssertFalse(try XCTUnwrap(deny.error).message.isEmpty)
        // Default arguments: no listener, no email.
        let session = try await client.createSession(mvpd: "Spectrum")
        try await Emulator.complete(try XCTUnwrap(session.code))
        let profile = try await client.awaitProfile(session: session)
        XCTAssertEqual(profile.mvpd, "Spectrum")
        let temp = try await client.authorizeTempPass(mvpd: "TempPass_10min", resource: "news")
        XCTAssertTrue(temp.isPermit)
    }

    func testURLSessionTransportRunsTheWholeJourney() async throws {
        try await Emulator.reset()
        let storage = DictionaryStorage()
        let client = try PassClient(config: config(), storage: storage, transport: URLSessionTransport())
        let configuration = try await client.configuration()
        XCTAssertEqual(configuration.pickerMvpds.map { $0.id }, ["Cablevision", "Spectrum"])
        try await login(client, "Cablevision")
        let pre = try await client.preauthorize(mvpd: "Cablevision", resources: ["news", "late-night"])
        XCTAssertTrue(pre[0].isPermit)
        XCTAssertEqual(pre[1].denyReason, .parentalControls)
        let decision = try await client.authorize(mvpd: "Cablevision", resource: "news")
        XCTAssertFalse(try XCTUnwrap(decision.mediaToken).serialized.isEmpty)
        let temp = try await client.authorizeTempPass(mvpd: "TempPass_10min", resource: "news")
        XCTAssertTrue(temp.isPermit)
        let logout = try await client.logout(mvpd: "Cablevision")
        guard case .openUrl = logout else { return XCTFail("expected OpenUrl, got \(logout)") }
        do {
            _ = try await client.authorize(mvpd: "NoSuchMvpd", resource: "news")
            XCTFail("expected an error")
        } catch let PassError.Server(status, error) {
            XCTAssertEqual(status, 400)
            XCTAssertEqual(error?.code, "invalid_integration")
        }
        let registrations = try await Emulator.count("/o/client/register")
        XCTAssertEqual(registrations, 1)

        // Cancelling the Task cancels the URLSession request.
        try await Emulator.delayDecisions(ms: 3000)
        let task = Task { try await client.authorize(mvpd: "Cablevision", resource: "news") }
        try await Task.sleep(nanoseconds: 300_000_000)
        let cancelledAt = Date()
        task.cancel()
        _ = await task.result
        XCTAssertLessThan(Date().timeIntervalSince(cancelledAt), 0.1)
    }

    func testNoDescriptionOrMirrorShowsASecret() {
        let statement = "statement-S3CRET-1", deviceId = "device-S3CRET-2", bearer = "Bearer token-S3CRET-3"
        let accessToken = "token-S3CRET-4", media = "media-S3CRET-5", userId = "user-S3CRET-6"
        let config = ClientConfig(
            baseUrl: "https://api.auth.adobe.com",
            serviceProvider: "REF30",
            softwareStatement: statement,
            deviceInfo: DeviceInfo(primaryHardwareType: "TV"),
            deviceId: deviceId
        )
        let header = HttpHeader(name: "authorization", value: bearer)
        let response = HttpResponse(status: 200, headers: [header],
                                    body: Data("{\"access_token\":\"\(accessToken)\"}".utf8))
        let parts = HttpRequestParts(method: "POST", url: "https://api.auth.adobe.com/o/client/token",
                                     headerBlock: Data("authorization: \(bearer)\r\n".utf8),
                                     body: Data("client_secret=\(accessToken)".utf8),
                                     timeoutMs: 1000, maxResponseBytes: 1000)
        let token = MediaToken(serialized: media, notBeforeMs: 1, notAfterMs: 2)
        let decision = Decision.permit(resource: "news", mvpd: "Cablevision", source: "mvpd",
                                       mediaToken: token, notAfterMs: 2)
        let attribute = Attribute(value: userId, encrypted: false)
        let profile = Profile(mvpd: "Cablevision", notBeforeMs: 1, notAfterMs: 2, issuer: "Cablevision",
                              profileType: .regular, attributes: ["userID": attribute], tempPass: nil)
        let values: [Any] = [config, header, response, parts, token, decision, attribute, profile]
        var printed: [String] = []
        for value in values {
            var dumped = ""
            dump(value, to: &dumped)
            printed += [String(describing: value), String(reflecting: value), dumped]
        }
        for text in printed {
            for secret in [statement, deviceId, bearer, accessToken, media, userId] {
                XCTAssertFalse(text.contains(secret), "\(secret) in \(text)")
            }
        }
        XCTAssertTrue(String(describing: config).contains("***"))
        XCTAssertEqual(config.softwareStatement, statement)
    }

    /// A store whose reads fail, as the Keychain does before the first unlock.
    final class LockedStorage: Storage, @unchecked Sendable {
        func get(key: String) throws -> String? {
            throw StorageError.Unavailable(reason: "Keychain read: OSStatus -25308")
        }
        func set(key: String, value: String) throws {}
        func remove(key: String) throws {}
    }

    func testAStorageThatThrowsIsReportedAndTheCallsGoOn() async throws {
        try await Emulator.reset()
        let client = try PassClient(config: config(), storage: LockedStorage())
        guard case .Unavailable(let reason)? = client.lastStorageError() else {
            return XCTFail("no storage error reported: \(String(describing: client.lastStorageError()))")
        }
        XCTAssertEqual(reason, "Keychain read: OSStatus -25308")
        // The calls proceed as on a fresh install: signed out, then a login that works.
        let profiles = try await client.profiles()
        XCTAssertTrue(profiles.isEmpty)
        try await login(client, "Cablevision")
        let permit = try await client.authorize(mvpd: "Cablevision", resource: "news")
        guard case .permit = permit else { return XCTFail("expected a Permit, got \(permit)") }
        let plain = try PassClient(config: config(), storage: DictionaryStorage())
        XCTAssertNil(plain.lastStorageError())
    }

    #if canImport(Security)
    // The Keychain: Apple platforms only (the release workflow's simulators); Linux has none.
    func testKeychainStorageRoundTripsAndRemoves() throws {
        let storage = KeychainStorage(service: "dev.tvpass.tests.\(UUID().uuidString)")
        XCTAssertNil(try storage.get(key: "tvpass.token"))
        try storage.set(key: "tvpass.token", value: "{\"access_token\":\"secret-1\"}")
        XCTAssertEqual(try storage.get(key: "tvpass.token"), "{\"access_token\":\"secret-1\"}")
        try storage.set(key: "tvpass.token", value: "{\"access_token\":\"secret-2\"}")
        XCTAssertEqual(try storage.get(key: "tvpass.token"), "{\"access_token\":\"secret-2\"}")
        try storage.remove(key: "tvpass.token")
        XCTAssertNil(try storage.get(key: "tvpass.token"))
        try storage.remove(key: "never-set") // not an error
    }

    func testKeychainErrorsCarryTheStatusAndNeverTheValue() {
        guard case .Unavailable(let locked) = KeychainStorage.error(errSecInteractionNotAllowed, "read") else {
            return XCTFail("a locked Keychain is Unavailable")
        }
        XCTAssertTrue(locked.contains("-25308"), locked)
        guard case .Failed(let other) = KeychainStorage.error(errSecDuplicateItem, "write") else {
            return XCTFail("another status is Failed")
        }
        XCTAssertTrue(other.hasPrefix("Keychain write: OSStatus \(errSecDuplicateItem)"), other)
    }
    #endif
}
