import Foundation

/// `application/x-www-form-urlencoded` parameters (query strings and POST bodies), with the
/// OAuth rule that a parameter must not appear twice (RFC 6749 §3.1, §3.2).
struct FormData: Sendable {
    private(set) var values: [String: String] = [:]
    /// Names given more than once; a request with any is refused.
    private(set) var repeated: Set<String> = []

    init(_ pairs: [String: String] = [:]) {
        values = pairs
    }

    /// Parses `a=1&b=2`; `+` is a space. `nil` when an escape is broken.
    init?(encoded: String) {
        for part in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(pieces[0]) else { return nil }
            guard let value = pieces.count == 2 ? Self.decode(pieces[1]) : "" else { return nil }
            if values.updateValue(value, forKey: name) != nil { repeated.insert(name) }
        }
    }

    /// The value of `name`; an empty value counts as absent (RFC 6749 §3.1).
    subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Encodes pairs for a query string or body, skipping `nil` values, in the given order.
    static func encode(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { name, value in value.map { escape(name) + "=" + escape($0) } }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// `base` with the pairs appended to its query.
    static func url(_ base: String, adding pairs: [(String, String?)]) -> String {
        let query = encode(pairs)
        guard !query.isEmpty else { return base }
        return base + (base.contains("?") ? "&" : "?") + query
    }
}
