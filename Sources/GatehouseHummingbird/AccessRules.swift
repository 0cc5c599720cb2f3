public import GatehouseOAuth

/// Who may sign in (`GATEHOUSE_ALLOWED_EMAILS`, `_EMAIL_DOMAINS`, `_GROUPS`).
///
/// Empty lists allow anyone the IdP authenticates. When emails or domains are given, the
/// identity's email (which `Identity` only carries when the IdP does not call it unverified)
/// must be one of the emails or end in one of the domains. When groups are given, the identity
/// must be in at least one of them. Comparisons of emails and domains ignore case.
public struct AccessRules: Sendable, Hashable {
    public var emails: Set<String>
    public var emailDomains: Set<String>
    public var groups: Set<String>

    public init(emails: [String] = [], emailDomains: [String] = [], groups: [String] = []) {
        self.emails = Set(emails.map { $0.lowercased() })
        self.emailDomains = Set(emailDomains.map { Self.normaliseDomain($0) })
        self.groups = Set(groups)
    }

    /// Why an identity was refused, for the 403 page and the log.
    public enum Refusal: String, Sendable {
        case email = "email_not_allowed"
        case group = "group_not_allowed"
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
        return nil
    }

    private static func normaliseDomain(_ domain: String) -> String {
        var value = domain.lowercased()
        while value.hasPrefix("@") || value.hasPrefix(".") { value.removeFirst() }
        return value
    }
}
