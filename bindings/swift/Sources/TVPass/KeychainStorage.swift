#if canImport(Security)
import Foundation
import Security

/// A `Storage` in the Keychain: client credentials, the access token and profiles stay on the
/// device, readable after the first unlock, not synced to other devices.
///
/// A Keychain failure throws `StorageError` with its `OSStatus` (never the value):
/// `.Unavailable` while the Keychain cannot be used yet (`errSecInteractionNotAllowed`: the
/// device not unlocked since it started), `.Failed` otherwise. Nothing is deleted on a failure.
/// The SDK logs it, reports it in `PassClient.lastStorageError()` and goes on without the value
/// (a read that fails counts as missing: signed out for that call).
public final class KeychainStorage: Storage, @unchecked Sendable {
    private let service: String

    /// - Parameter service: the Keychain service name (default: the bundle identifier + ".tvpass").
    public init(service: String = (Bundle.main.bundleIdentifier ?? "app") + ".tvpass") {
        self.service = service
    }

    private func query(_ key: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: key,
        ]
    }

    public func get(key: String) throws -> String? {
        var q = query(key)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            // Data that is not text is not this SDK's: missing (the SDK writes it again).
            guard let data = item as? Data else { return nil }
            return String(data: data, encoding: .utf8)
        case errSecItemNotFound:
            return nil
        default:
            throw Self.error(status, "read")
        }
    }

    public func set(key: String, value: String) throws {
        let attributes: [String: Any] = [
            kSecValueData as String: Data(value.utf8),
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        var status = SecItemUpdate(query(key) as CFDictionary, attributes as CFDictionary)
        if status == errSecItemNotFound {
            var add = query(key)
            add.merge(attributes) { _, new in new }
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else { throw Self.error(status, "write") }
    }

    public func remove(key: String) throws {
        let status = SecItemDelete(query(key) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw Self.error(status, "remove")
        }
    }

    /// The error of a failed Keychain call: its `OSStatus` and the system's text for it.
    static func error(_ status: OSStatus, _ operation: String) -> StorageError {
        var reason = "Keychain \(operation): OSStatus \(status)"
        if let text = SecCopyErrorMessageString(status, nil) as String? {
            reason += " (\(text))"
        }
        return status == errSecInteractionNotAllowed
            ? .Unavailable(reason: reason) : .Failed(reason: reason)
    }
}
#endif
