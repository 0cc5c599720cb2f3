public import GatehouseOAuth

/// Who may sign in (`GATEHOUSE_ALLOWED_EMAILS`, `_EMAIL_DOMAINS`, `_GROUPS`).
///
/// Empty lists allow anyone the IdP authenticates. When emails or domains are given, the
/// identity's email (which `Identity` only carries when the IdP does not call it unverified)
/// must be one of the emails or end in one of the domains. When groups are given, the identity
/// must be in at least one of them. When claims are given, every one must hold: the identity's
/// retained value at that dotted path (``Identity/claims``; for an array claim, one of its
/// elements) equals the given text exactly. Comparisons of emails and domains ignore case.
public struct AccessRules: Sendable, Hashable {
    public var emails: Set<String>
    public var emailDomains: Set<String>
    public var groups: Set<String>
    /// Dotted claim path → the text its value must equal (`org.id: "42"`).
    public var claims: [String: String]

    public init(emails: [String] = [], emailDomains: [String] = [], groups: [String] = [], claims: [String: String] = [:]) {
        self.emails = Set(emails.map { $0.lowercased() })
        self.emailDomains = Set(emailDomains.map { Self.normaliseDomain($0) })
        self.groups = Set(groups)
        self.claims = claims
    }

    /// Whether the rules admit everyone the IdP authenticates.
    public var isEmpty: Bool { emails.isEmpty && emailDomains.isEmpty && groups.isEmpty && claims.isEmpty }

    /// Why an identity was refused, for the 403 page and the log.
    public enum Refusal: String, Sendable {
        case email = "email_not_allowed"
        case group = "group_not_allowed"
        case claim = "claim_not_allowed"
    }

    /// `nil` when `identity` may sign in, else the rule it failed.
    public func check(_ identity: Identity) -> Refusal? {
        if !emails.isEmpty || !emailDomains.isEmpty {
            guard let email = identity.email?.lowercased(), identity.emailVerified != false else { return .email }
            let domain = email.split(separator: "@", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            guard emails.contains(email) || (email.contains("@") && emailDomains.contains(domain)) else {
                return .email
            }
        }
        if !groups.isEmpty {
            guard identity.groups.contains(where: groups.contains) else { return .group }
        }
        for (path, expected) in claims where identity.claims[path]?.contains(expected) != true {
            return .claim
        }
        return nil
    }

    private static func normaliseDomain(_ domain: String) -> String {
        var value = domain.lowercased()
        while value.hasPrefix("@") || value.hasPrefix(".") { value.removeFirst() }
        return value
    }
}
