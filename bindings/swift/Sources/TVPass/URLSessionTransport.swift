import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The SDK's requests sent with `URLSession`: the platform's proxy, VPN, App Transport Security,
/// certificate pinning (through your session delegate) and network policy (Low Data Mode,
/// cellular access) apply, and the requests show up in the platform's network tools. Pacing,
/// retries, deadlines and error decoding stay in the SDK.
///
/// ```swift
/// let client = try PassClient(config: config, storage: KeychainStorage(), transport: URLSessionTransport())
/// ```
///
/// Redirects are not followed. Cancelling the calling Task cancels the request.
public final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    private let session: URLSession

    /// A transport with its own ephemeral session (no cookies, no cache), or a session of the
    /// app's (its delegate should refuse redirects).
    public init(session: URLSession? = nil) {
        self.session = session ?? URLSession(
            configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
    }

    public func send(request: HttpRequest) async throws -> HttpResponse {
        guard let url = URL(string: request.url()) else {
            throw HttpError.Other(reason: "not a URL")
        }
        var r = URLRequest(url: url)
        r.httpMethod = request.method()
        r.timeoutInterval = Double(request.timeoutMs()) / 1000
        r.cachePolicy = .reloadIgnoringLocalCacheData
        for h in request.headers() {
            r.addValue(h.value, forHTTPHeaderField: h.name)
        }
        r.httpBody = request.body()
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch let e as URLError {
            switch e.code {
            case .timedOut:
                throw HttpError.Timeout
            case .cancelled:
                throw CancellationError()
            case .cannotFindHost, .cannotConnectToHost, .networkConnectionLost, .dnsLookupFailed,
                 .notConnectedToInternet, .secureConnectionFailed, .serverCertificateUntrusted,
                 .serverCertificateHasBadDate, .serverCertificateNotYetValid,
                 .serverCertificateHasUnknownRoot, .clientCertificateRejected,
                 .badServerResponse, .cannotParseResponse, .resourceUnavailable:
                throw HttpError.Connect(reason: "URLError \(e.code.rawValue)")
            default:
                throw HttpError.Other(reason: "URLError \(e.code.rawValue)")
            }
        }
        guard let http = response as? HTTPURLResponse else {
            throw HttpError.Other(reason: "not an HTTP answer")
        }
        if UInt64(data.count) > request.maxResponseBytes() {
            throw HttpError.TooLarge
        }
        var headers: [HttpHeader] = []
        for (k, v) in http.allHeaderFields {
            if let name = k as? String, let value = v as? String {
                headers.append(HttpHeader(name: name.lowercased(), value: value))
            }
        }
        return HttpResponse(status: UInt16(clamping: http.statusCode), headers: headers, body: data)
    }
}

/// Refuses redirects: the SDK decides what a 3xx means.
final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

#if canImport(os)
import os

/// The SDK's log lines in the unified logging system (Console, `log stream`), subsystem
/// `dev.tvpass` by default. The SDK never logs a secret.
///
/// ```swift
/// OSLogLogger.install(level: .info)
/// ```
@available(iOS 14.0, tvOS 14.0, macOS 11.0, *)
public final class OSLogLogger: TVPass.Logger, @unchecked Sendable {
    private let log: os.Logger

    public init(subsystem: String = "dev.tvpass", category: String = "sdk") {
        log = os.Logger(subsystem: subsystem, category: category)
    }

    public func log(level: LogLevel, target: String, message: String) {
        let line = "\(target): \(message)"
        switch level {
        case .error: log.error("\(line, privacy: .public)")
        case .warn: log.warning("\(line, privacy: .public)")
        case .info: log.info("\(line, privacy: .public)")
        case .debug, .trace: log.debug("\(line, privacy: .public)")
        }
    }

    /// Sends the SDK's lines at `level` and above to the unified logging system.
    public static func install(level: LogLevel = .info, subsystem: String = "dev.tvpass") {
        setLogger(logger: OSLogLogger(subsystem: subsystem), level: level)
    }
}
#endif

extension PassClient {
    /// A client whose requests go through `URLSession` (`URLSessionTransport`): the shipped
    /// library has no HTTP stack of its own. Every setting is checked here.
    public convenience init(config: ClientConfig, storage: Storage?) throws {
        try self.init(config: config, storage: storage, transport: URLSessionTransport())
    }
}
