// Media tokens and profile attributes' values (user identifiers among them) never print: the
// records holding them describe, debug-describe and mirror themselves without them, so that
// `print(decision)`, `"\(profile)"`, `debugPrint` and `dump` leak neither.

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
