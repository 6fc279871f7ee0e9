#if canImport(Security)
import Foundation
import Security

/// A `Storage` in the Keychain: client credentials, the access token and profiles stay on the
/// device, readable after the first unlock, not synced to other devices.
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

    public func get(key: String) -> String? {
        var q = query(key)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        guard SecItemCopyMatching(q as CFDictionary, &item) == errSecSuccess,
              let data = item as? Data else { return nil }
        return String(data: data, encoding: .utf8)
    }

    public func set(key: String, value: String) {
        let data = Data(value.utf8)
        let attributes: [String: Any] = [
            kSecValueData as String: data,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        let status = SecItemUpdate(query(key) as CFDictionary, attributes as CFDictionary)
        if status == errSecItemNotFound {
            var add = query(key)
            add.merge(attributes) { _, new in new }
            SecItemAdd(add as CFDictionary, nil)
        }
    }

    public func remove(key: String) {
        SecItemDelete(query(key) as CFDictionary)
    }
}
#endif
