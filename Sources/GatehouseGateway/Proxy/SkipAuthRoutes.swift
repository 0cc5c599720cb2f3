/// `GATEHOUSE_SKIP_AUTH_ROUTES`: path prefixes served without a login.
///
/// Matching is on whole segments of the normalised path, never the query: `/public` matches
/// `/public` and `/public/a` but not `/publicity`. The request path is normalised first —
/// percent-decoded segment by segment, `.` dropped, `..` resolved, empty segments dropped — so
/// `/public/../admin` or `/public/%2e%2e/admin` are *not* public. A segment that decodes to
/// something containing `/`, `\`, `;` or a control character, or a malformed escape, matches
/// nothing (the request needs a login): what the upstream makes of it is unknowable.
public struct SkipAuthRoutes: Sendable {
    let prefixes: [[String]]

    init(prefixes: [[String]]) {
        self.prefixes = prefixes
    }

    /// Parses the prefixes; each must start with `/`.
    public init(parsing entries: [String]) throws {
        var prefixes: [[String]] = []
        for entry in entries {
            guard entry.hasPrefix("/"), let segments = Self.normalise(entry) else {
                throw ConfigurationError(
                    "GATEHOUSE_SKIP_AUTH_ROUTES", "\"\(entry)\" must be a plain path starting with /, like /public")
            }
            prefixes.append(segments)
        }
        self.prefixes = prefixes
    }

    /// Whether `path` (raw, without the query) is served without a login.
    public func matches(_ path: String) -> Bool {
        guard !prefixes.isEmpty, let segments = Self.normalise(path) else { return false }
        return prefixes.contains { prefix in
            prefix.count <= segments.count && zip(prefix, segments).allSatisfy { $0 == $1 }
        }
    }

    /// The decoded, resolved segments of a raw path, or `nil` when it cannot be decoded safely.
    static func normalise(_ path: String) -> [String]? {
        var result: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let segment = decode(raw) else { return nil }
            switch segment {
            case ".": continue
            case "..": if !result.isEmpty { result.removeLast() }
            default: result.append(segment)
            }
        }
        return result
    }

    private static func decode(_ raw: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(raw.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        // `;` too: some servers read `..;` as `..` (path parameters).
        let unsafe: Set<UInt8> = [UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: ";"), 0x7F]
        guard !bytes.contains(where: { $0 < 0x20 || unsafe.contains($0) })
        else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
