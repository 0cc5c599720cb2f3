public import GatehouseOAuth
public import Hummingbird

/// The identity headers (DESIGN §2) for a signed-in identity: `X-Forwarded-User` (the
/// subject), `X-Forwarded-Email`, `X-Forwarded-Preferred-Username`, `X-Forwarded-Groups`
/// (comma-separated). Absent values are left out. Values with bytes not allowed in a header
/// become spaces (swift-http-types), so a claim cannot inject a header.
public enum IdentityHeaders {
    public static func values(for identity: Identity) -> [(HTTPFields.Element.Name, String)] {
        var values: [(HTTPFields.Element.Name, String)] = [(.forwardedUser, identity.subject)]
        if let email = identity.email { values.append((.forwardedEmail, email)) }
        if let username = identity.preferredUsername { values.append((.forwardedPreferredUsername, username)) }
        if !identity.groups.isEmpty { values.append((.forwardedGroups, identity.groups.joined(separator: ","))) }
        return values
    }

    /// Removes every identity header a client sent.
    public static func strip(from headers: inout HTTPFields) {
        for name in HTTPFields.Element.Name.identityHeaders { headers[name] = nil }
    }
}
