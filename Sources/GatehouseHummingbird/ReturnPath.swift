/// The `rd` return path of a login: only a same-origin relative path survives; everything else
/// becomes `/`. An open redirect here would let anyone use our login to send users anywhere.
public enum ReturnPath {
    /// Upper bound on a kept path (longer ones are replaced by `/`).
    public static let maximumLength = 2048

    /// `candidate` when it is a plain path on this origin (`/x?y`), otherwise `/`.
    ///
    /// Refused: anything not starting with exactly one `/` (`//evil`, `/\evil`, `https:`,
    /// `evil`), backslashes anywhere (browsers read them as `/`), control characters, tabs and
    /// newlines (browsers strip them, so `/\t/evil` becomes `//evil`), spaces, non-ASCII, and
    /// percent-encoded slashes, backslashes or control characters (`/%2F%2Fevil`), which a
    /// later decoding step could turn into one of the above, and percent-encoded non-ASCII in
    /// the path (in the query it is kept).
    public static func sanitize(_ candidate: String?) -> String {
        guard let candidate, !candidate.isEmpty, candidate.utf8.count <= maximumLength else { return "/" }
        let bytes = Array(candidate.utf8)
        guard bytes[0] == UInt8(ascii: "/") else { return "/" }
        if bytes.count > 1 && (bytes[1] == UInt8(ascii: "/") || bytes[1] == UInt8(ascii: "\\")) { return "/" }
        var index = 0
        var inQuery = false
        while index < bytes.count {
            let byte = bytes[index]
            // Printable ASCII only, no space or backslash, and no fragment.
            guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "\\"), byte != UInt8(ascii: "#") else { return "/" }
            if byte == UInt8(ascii: "?") { inQuery = true }
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let decoded = hexPair(bytes[index + 1], bytes[index + 2]) else { return "/" }
                // Encoded UTF-8 (bytes ≥ 0x80) is fine in the query (`?q=%C3%A9`), never in the path,
                // where look-alike slashes (`%E2%88%95`, U+2215) could be normalised into `/`.
                let nonASCII = decoded >= 0x80 && inQuery
                if decoded < 0x20 || (decoded >= 0x7F && !nonASCII) || decoded == UInt8(ascii: "/")
                    || decoded == UInt8(ascii: "\\") || decoded == UInt8(ascii: "%")
                {
                    return "/"
                }
                index += 3
                continue
            }
            index += 1
        }
        return candidate
    }

    /// `candidate` as a login's return target: a same-origin path (``sanitize(_:)``), or an
    /// absolute URL with `scheme` on one of `hosts` (the hosts sharing the session cookie,
    /// `app.example.com` or with `:port`) whose path and query pass ``sanitize(_:)`` — nothing
    /// else, so the login cannot be used to send anyone to another site. Otherwise `/`.
    public static func sanitize(_ candidate: String?, scheme: String, hosts: [String]) -> String {
        guard let candidate, !hosts.isEmpty, !candidate.hasPrefix("/") else { return sanitize(candidate) }
        let prefix = scheme.lowercased() + "://"
        guard candidate.utf8.count <= maximumLength, candidate.lowercased().hasPrefix(prefix) else { return "/" }
        let rest = candidate.dropFirst(prefix.count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd].lowercased()
        guard isListed(authority, in: hosts) else { return "/" }
        let target = rest[authorityEnd...].isEmpty ? "/" : String(rest[authorityEnd...])
        guard target.hasPrefix("/"), sanitize(target) == target else { return "/" }
        return prefix + authority + target
    }

    /// Whether `authority` (`host[:port]`: letters, digits, `-`, `.`, and a port) is one of
    /// `hosts`: equal to one with a port, or with any port to one without.
    static func isListed(_ authority: String, in hosts: [String]) -> Bool {
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty,
            name.utf8.allSatisfy({ byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }),
            parts.count == 1 || (!parts[1].isEmpty && parts[1].utf8.count <= 5 && parts[1].allSatisfy(\.isASCII) && parts[1].allSatisfy(\.isNumber))
        else { return false }
        return hosts.contains { host in host.contains(":") ? host == authority : host == name }
    }

    private static func hexPair(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let high = hexValue(high), let low = hexValue(low) else { return nil }
        return high << 4 | low
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
