/// How a request path is read for route matching. An upstream may read a path several ways —
/// percent-decoded or not, `%2F` as a separator or not, `;parameters` dropped (servlet
/// containers) or kept — and the route a request is admitted under must be the route of every
/// such reading: ``readings(_:)`` gives the readings, and a path whose readings select
/// different routes is refused (``RouteTable``).
///
/// Paths here are accepted by ``RequestTarget`` already (no dot segments, `%00`, raw `\`,
/// malformed escapes or double encoding).
enum RoutePath {
    /// The readings of `path` as segment lists (empty segments dropped): as sent; decoded
    /// except `%2F`/`%5C`, `;parameters` dropped; fully decoded with `%2F`/`%5C` as
    /// separators, `;parameters` dropped. One reading when the path has no `%` and no `;`.
    static func readings(_ path: Substring) -> [[Substring]] {
        let literal = path.split(separator: "/")
        guard path.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: ";") }) else { return [literal] }
        var partial: [Substring] = []
        var full: [Substring] = []
        for segment in literal {
            let bare = segment.prefix { $0 != ";" }
            let partly = Substring(decoded(bare, keepingSeparators: true))
            if !partly.isEmpty { partial.append(partly) }
            full += decoded(bare, keepingSeparators: false).split(whereSeparator: { $0 == "/" || $0 == "\\" })
                .map { $0.prefix { $0 != ";" } }.filter { !$0.isEmpty }
        }
        return [literal, partial, full]
    }

    /// `segment` percent-decoded (bytes that do not form UTF-8 are replaced); with
    /// `keepingSeparators`, `%2F` and `%5C` stay encoded.
    private static func decoded(_ segment: Substring, keepingSeparators: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segment.utf8.count)
        var index = segment.utf8.startIndex
        let end = segment.utf8.endIndex
        while index < end {
            let byte = segment.utf8[index]
            let first = segment.utf8.index(after: index)
            if byte == UInt8(ascii: "%"), first < end, segment.utf8.index(after: first) < end,
                let high = RequestTarget.hexValue(segment.utf8[first]),
                let low = RequestTarget.hexValue(segment.utf8[segment.utf8.index(after: first)])
            {
                let value = high << 4 | low
                let isSeparator = value == UInt8(ascii: "/") || value == UInt8(ascii: "\\")
                if keepingSeparators, isSeparator {
                    bytes.append(contentsOf: segment.utf8[index...segment.utf8.index(after: first)])
                } else {
                    bytes.append(value)
                }
                index = segment.utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = first
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A configured prefix (`match.path_prefix`) as segments, or `nil` unless it is a plain
    /// path: `/` and letters, digits and `-._~` only, no dot segment, no empty segment.
    static func prefixSegments(_ text: String) -> [String]? {
        guard text.hasPrefix("/") else { return nil }
        var body = text.dropFirst()
        if body.hasSuffix("/") { body = body.dropLast() }
        if body.isEmpty { return [] }
        let segments = body.split(separator: "/", omittingEmptySubsequences: false)
        let plain = { (byte: UInt8) -> Bool in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                true
            default: false
            }
        }
        for segment in segments {
            guard !segment.isEmpty, segment != ".", segment != "..", segment.utf8.allSatisfy(plain) else { return nil }
        }
        return segments.map(String.init)
    }

    /// Whether `segments` starts with the whole segments of `prefix`.
    static func hasPrefix(_ segments: [Substring], _ prefix: [String]) -> Bool {
        guard prefix.count <= segments.count else { return false }
        for (segment, expected) in zip(segments, prefix) where segment != expected { return false }
        return true
    }
}
