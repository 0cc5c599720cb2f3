public import GatehouseOAuth
public import Hummingbird

/// The identity headers (DESIGN §2) for a signed-in identity: `X-Forwarded-User` (the
/// subject), `X-Forwarded-Email`, `X-Forwarded-Preferred-Username`, `X-Forwarded-Groups`
/// (comma-separated, see ``isListableGroup(_:)``), and for a session `X-Forwarded-Provider`
/// (its provider's id). Absent values are left out. Values with bytes not allowed in a header
/// become spaces (swift-http-types), so a claim cannot inject a header.
public enum IdentityHeaders {
    public static func values(for identity: Identity, provider: String? = nil) -> [(HTTPFields.Element.Name, String)] {
        // One allocation: this runs on every proxied request.
        var values: [(HTTPFields.Element.Name, String)] = []
        values.reserveCapacity(5)
        values.append((.forwardedUser, identity.subject))
        if let provider { values.append((.forwardedProvider, provider)) }
        if let email = identity.email { values.append((.forwardedEmail, email)) }
        if let username = identity.preferredUsername { values.append((.forwardedPreferredUsername, username)) }
        let groups = identity.groups.filter(isListableGroup)
        if !groups.isEmpty { values.append((.forwardedGroups, groups.joined(separator: ","))) }
        return values
    }

    /// Whether a group name reads back as itself from the comma-separated
    /// `X-Forwarded-Groups`. Left out (never encoded): names with `,` (`"staff,admins"` would
    /// become two groups), `"` (list parsers such as Werkzeug's unquote), control characters
    /// (swift-http-types turns them into spaces), leading or trailing spaces or tabs (list
    /// parsers trim them: `" admins"` would read as `admins`), and the empty name. Leaving a
    /// group out can only deny access at the upstream, never grant one; an encoding would
    /// need every upstream to decode it, and upstreams that do not would compare the encoded
    /// form. `/oauth2/userinfo` keeps every name (JSON has no such ambiguity).
    public static func isListableGroup(_ name: String) -> Bool {
        guard let first = name.utf8.first, let last = name.utf8.last else { return false }
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard !blank(first), !blank(last) else { return false }
        return !name.utf8.contains { byte in
            byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"")
        }
    }

    /// Removes every identity header a client sent.
    public static func strip(from headers: inout HTTPFields) {
        for name in HTTPFields.Element.Name.identityHeaders { headers[name] = nil }
    }
}
