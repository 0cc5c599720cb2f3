/// `GATEHOUSE_SKIP_AUTH_ROUTES`: path prefixes served without a login.
///
/// Matching is on whole segments of the path, never the query: `/public` matches `/public`,
/// `/public/` and `/public/a` but not `/publicity`. Only a path ``RequestTarget`` accepts can
/// match (no dot segments, fragments, `%00` or double encoding: the path matched is the path
/// the upstream receives). Segments are percent-decoded for the comparison; a segment that
/// decodes to something containing `/`, `\`, `;` or a control character (`%2F`, `%5C` stay
/// opaque), or an empty segment before the last (`/public//x`), matches nothing: what the
/// upstream makes of it is unknowable, so the request needs a login.
public struct SkipAuthRoutes: Sendable {
    let prefixes: [[String]]

    init(prefixes: [[String]]) {
        self.prefixes = prefixes
    }

    /// Parses the prefixes; each must start with `/`.
    public init(parsing entries: [String]) throws {
        var prefixes: [[String]] = []
        for entry in entries {
            guard let target = try? RequestTarget(entry), target.path == entry, let segments = Self.segments(target.path)
            else {
                throw ConfigurationError(
                    "GATEHOUSE_SKIP_AUTH_ROUTES", "\"\(entry)\" must be a plain path starting with /, like /public")
            }
            prefixes.append(segments)
        }
        self.prefixes = prefixes
    }

    /// Whether `path` (raw, without the query) is served without a login.
    public func matches(_ path: some StringProtocol) -> Bool {
        guard !prefixes.isEmpty, let target = try? RequestTarget(path), let segments = Self.segments(target.path)
        else { return false }
        return prefixes.contains { prefix in
            prefix.count <= segments.count && zip(prefix, segments).allSatisfy { $0 == $1 }
        }
    }

    /// The decoded segments of an accepted path (a trailing `/` adds none), or `nil` when one
    /// cannot be decoded safely or an empty segment precedes another.
    static func segments(_ path: Substring) -> [String]? {
        var raw = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if raw.last?.isEmpty == true { raw = raw.dropLast() }
        var result: [String] = []
        for part in raw {
            guard !part.isEmpty, let segment = decode(part) else { return nil }
            result.append(segment)
        }
        return result
    }

    private static func decode(_ raw: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(raw.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(RequestTarget.hexValue), let low = iterator.next().flatMap(RequestTarget.hexValue) else {
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
}
