// Secrets never print: the software statement and the device id of a `ClientConfig`, a header's
// value, media tokens and profile attributes' values (user identifiers among them). The records
// holding them describe, debug-describe and mirror themselves without them, so that
// `print(config)`, `print(decision)`, `"\(profile)"`, `debugPrint` and `dump` leak none.

extension ClientConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let fields = customMirror.children.map { "\($0.label ?? ""): \($0.value)" }
        return "ClientConfig(" + fields.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "baseUrl": baseUrl,
            "serviceProvider": serviceProvider,
            "softwareStatement": "***",
            "deviceInfo": deviceInfo,
            "deviceId": deviceId == nil ? "nil" : "***",
            "pollingIntervalSeconds": pollingIntervalSeconds as Any,
            "maxAttempts": maxAttempts as Any,
            "requestTimeoutMs": requestTimeoutMs as Any,
            "paceRequests": paceRequests as Any,
            "domainName": domainName as Any,
            "redirectUrl": redirectUrl as Any,
        ])
    }
}

extension HttpHeader: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "HttpHeader(name: \(name), value: ***)" }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["name": name, "value": "***"]) }
}

extension MediaToken: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "MediaToken(serialized: ***, notBeforeMs: \(notBeforeMs), notAfterMs: \(notAfterMs))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["serialized": "***", "notBeforeMs": notBeforeMs, "notAfterMs": notAfterMs])
    }
}

extension Attribute: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "Attribute(value: <\(value.utf8.count) bytes>, encrypted: \(encrypted))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["value": "<\(value.utf8.count) bytes>", "encrypted": encrypted])
    }
}
