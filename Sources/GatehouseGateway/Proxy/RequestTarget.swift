/// The one decision on a request target: which targets the gateway serves at all, and the path
/// that admission (skip-auth routes, Gatehouse's own endpoints) is decided on — which is, byte
/// for byte, the path the upstream receives. Both proxy paths, the WebSocket handshake, the
/// router and ``SkipAuthRoutes`` ask this type; nothing else parses a target.
///
/// Refused (`400`), because an upstream may read them differently from the gateway (RFC 3986
/// §5.2.4 dot removal, servlet path parameters, Windows separators, double decoding):
/// - anything but origin form (`/path?query`), or a path starting with `//` (it reads as an
///   authority); a raw `\` in the path (a separator to some servers);
/// - a fragment (`#` is never sent by a browser; HTTP clients drop what follows it);
/// - `%00`, a control byte, a byte outside ASCII, or a malformed percent escape;
/// - a dot segment — `.` or `..`, also percent-encoded (`%2e`), also before a `;` parameter
///   (`..;x`), also between `\`, `%2F` or `%5C` (`..%2f`);
/// - double encoding: `%25` followed by the encoding of `.`, `/`, `\`, `#`, NUL or another `%`
///   (`%252e`, `%252F`, `%2523`, `%25%32%65`).
///
/// `%2F` and `%5C` are otherwise left alone: never decoded for matching, forwarded as they came.
/// `%5C` counts as a separator for the dot check.
struct RequestTarget: Sendable {
    /// Why a target is refused: a stable code and a sentence for the client.
    struct Refusal: Error, Equatable, Sendable {
        let code: String
        let message: String

        static let notOriginForm = Refusal(
            code: "bad_request_target", message: "The request target must be a path on this site (origin form).")
        static let fragment = Refusal(code: "fragment_in_target", message: "A request target cannot contain a fragment (#).")
        static let badByte = Refusal(
            code: "bad_request_target", message: "The request target contains a NUL, a control character or a malformed percent escape.")
        static let backslash = Refusal(
            code: "backslash_in_target", message: "The request path cannot contain a backslash; send it percent-encoded (%5C).")
        static let dotSegment = Refusal(
            code: "dot_segment_in_target", message: "The request path cannot contain . or .. segments, plain or encoded.")
        static let doubleEncoding = Refusal(
            code: "double_encoding_in_target", message: "The request path cannot contain double percent-encoding (%25 followed by an escape).")
    }

    /// The target sent upstream: as received, except that printable bytes a URI cannot hold
    /// (`"`, `<`, `>`, `[`, `\`, `]`, `^`, `` ` ``, `{`, `|`, `}`) are percent-encoded, as
    /// every HTTP client (AsyncHTTPClient included) would; equivalent for any upstream.
    let forwarded: String
    /// The path of ``forwarded``: up to the first `?`. Admission is decided on it.
    let path: Substring

    /// Checks `raw`; throws the reason it is refused.
    init(_ raw: some StringProtocol) throws(Refusal) {
        let bytes = Substring(raw).utf8
        guard bytes.first == UInt8(ascii: "/") else { throw .notOriginForm }
        let second = bytes.index(after: bytes.startIndex)
        if second < bytes.endIndex, bytes[second] == UInt8(ascii: "/") { throw .notOriginForm }
        try Self.checkBytes(bytes)
        // A raw `\` in the path: a separator to some servers (IIS, Windows, some frameworks),
        // an ordinary byte to others.
        if bytes.prefix(while: { $0 != UInt8(ascii: "?") }).contains(UInt8(ascii: "\\")) { throw .backslash }
        let forwarded = Self.encodingStrayBytes(String(raw))
        let path = forwarded.utf8.firstIndex(of: UInt8(ascii: "?")).map { forwarded[..<$0] } ?? forwarded[...]
        try Self.checkSegments(path.utf8)
        self.forwarded = forwarded
        self.path = path
    }

    /// `target` with the printable bytes outside RFC 3986's sets percent-encoded (no copy when
    /// there are none, the usual case).
    private static func encodingStrayBytes(_ target: String) -> String {
        guard target.utf8.contains(where: isStray) else { return target }
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(target.utf8.count + 16)
        for byte in target.utf8 {
            if isStray(byte) {
                bytes.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Printable ASCII that is neither unreserved, a delimiter RFC 3986 allows in a path or
    /// query, nor `%` (escapes are checked apart).
    private static func isStray(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["), UInt8(ascii: "\\"),
            UInt8(ascii: "]"), UInt8(ascii: "^"), UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"):
            true
        default: false
        }
    }

    /// Whether `raw` is served at all.
    static func isAcceptable(_ raw: some StringProtocol) -> Bool {
        (try? RequestTarget(raw)) != nil
    }

    /// `#`, control bytes, `%00`, malformed escapes, double encoding — anywhere in the target.
    private static func checkBytes(_ bytes: Substring.UTF8View) throws(Refusal) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "#") { throw .fragment }
            if byte <= 0x20 || byte >= 0x7F { throw .badByte }  // raw non-ASCII is not a URI either
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                guard first < bytes.endIndex, let high = hexValue(bytes[first]) else { throw .badByte }
                let second = bytes.index(after: first)
                guard second < bytes.endIndex, let low = hexValue(bytes[second]) else { throw .badByte }
                let decoded = high << 4 | low
                if decoded == 0 { throw .badByte }
                if decoded == UInt8(ascii: "%") {
                    let next = bytes.index(after: second)
                    if next < bytes.endIndex, isDoubleEncodingStart(bytes[next...]) { throw .doubleEncoding }
                }
                index = bytes.index(after: second)
                continue
            }
            index = bytes.index(after: index)
        }
    }

    /// After a decoded `%`: another `%`, or the hex pair of `.`, `/`, `\`, `#` or NUL.
    private static func isDoubleEncodingStart(_ rest: Substring.UTF8View.SubSequence) -> Bool {
        guard let first = rest.first else { return false }
        if first == UInt8(ascii: "%") { return true }
        let pair = rest.prefix(2).map { $0 | 0x20 }  // ASCII lower case for letters
        guard pair.count == 2 else { return false }
        let suspicious: [[UInt8]] = [Array("2e".utf8), Array("2f".utf8), Array("5c".utf8), Array("23".utf8), Array("00".utf8)]
        return suspicious.contains(pair)
    }

    /// Dot segments, with `/`, `\`, `%2F` and `%5C` all taken as separators and a `;` parameter
    /// ignored, so that no upstream's reading finds one. Runs on every request: no allocation
    /// (a segment is only ever judged empty, `.`, `..` or anything else).
    private static func checkSegments(_ path: Substring.UTF8View) throws(Refusal) {
        let outcome: Refusal?? = path.withContiguousStorageIfAvailable { checkSegments(in: $0) }
        if let outcome {
            if let refusal = outcome { throw refusal }
            return
        }
        if let refusal = Array(path).withUnsafeBufferPointer({ checkSegments(in: $0) }) { throw refusal }
    }

    private static func checkSegments(in path: UnsafeBufferPointer<UInt8>) -> Refusal? {
        /// Dots in the current segment so far; `nil` once it holds anything else.
        var dots: Int? = 0
        var inParameter = false
        var index = 0
        let dot = UInt8(ascii: ".")
        while index <= path.count {
            var content: UInt8?
            var separator = index == path.count
            if !separator {
                let byte = path[index]
                if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") {
                    separator = true
                } else if byte == UInt8(ascii: "%"), index + 2 < path.count,
                    let high = hexValue(path[index + 1]), let low = hexValue(path[index + 2])
                {
                    let decoded = high << 4 | low
                    index += 2
                    if decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") {
                        separator = true
                    } else if decoded == UInt8(ascii: ";") {
                        inParameter = true
                    } else {
                        content = decoded
                    }
                } else if byte == UInt8(ascii: ";") {
                    inParameter = true
                } else {
                    content = byte
                }
            }
            if separator {
                if dots == 1 || dots == 2 { return .dotSegment }
                dots = 0
                inParameter = false
            } else if let content, !inParameter {
                dots = content == dot ? dots.map { $0 + 1 } : nil
            }
            index += 1
        }
        return nil
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
