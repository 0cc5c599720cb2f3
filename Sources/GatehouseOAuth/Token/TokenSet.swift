public import Foundation

/// The tokens from a token endpoint response (RFC 6749 §5.1), with the response's other fields
/// kept for provider-specific use.
public struct TokenSet: Sendable, Hashable, Codable {
    public var accessToken: String
    /// `token_type`, as sent (`Bearer`, `bearer`, `DPoP`, …).
    public var tokenType: String
    /// When the access token expires: the receipt time plus `expires_in`; `nil` if not stated.
    public var expiresAt: Date?
    /// When the token response arrived, if it stated `expires_in` (the token's lifetime is
    /// ``expiresAt`` minus this; see ``refreshDue(leeway:now:)``).
    public var issuedAt: Date?
    public var refreshToken: String?
    public var idToken: String?
    /// The granted scopes when the server stated them (RFC 6749 §5.1: required if they differ
    /// from the requested ones).
    public var scope: [String]?
    /// Every other field of the response (`token_type`, `expires_in`, `scope` and any
    /// provider-specific one, such as `refresh_expires_in`); the three tokens themselves are
    /// kept only in their typed properties.
    public var raw: [String: JSONValue]
    /// The key the tokens are bound to (RFC 9449, `token_type: DPoP`): every use of the access
    /// token and every refresh needs a proof of it. Kept (sealed) with the tokens; a refresh
    /// keeps it.
    public var dpopKey: DPoPKey?

    public init(
        accessToken: String,
        tokenType: String = "Bearer",
        expiresAt: Date? = nil,
        issuedAt: Date? = nil,
        refreshToken: String? = nil,
        idToken: String? = nil,
        scope: [String]? = nil,
        raw: [String: JSONValue] = [:],
        dpopKey: DPoPKey? = nil
    ) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.scope = scope
        self.raw = raw
        self.dpopKey = dpopKey
    }

    /// Whether the access token expires within `leeway` of `now`. A token without a stated
    /// lifetime never counts as expiring.
    public func expires(within leeway: Duration, now: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= Double(leeway.components.seconds)
    }

    /// Whether the access token is due for a refresh at `now`: once less than `leeway` of it
    /// remains, but never sooner than half way through its lifetime (``isRefreshDue``).
    public func refreshDue(leeway: Duration, now: Date) -> Bool {
        Self.isRefreshDue(expiresAt: expiresAt, issuedAt: issuedAt, leeway: leeway, now: now)
    }

    /// The refresh rule for a token that expires at `expiresAt` and was issued at `issuedAt`:
    /// due once less than the lead time remains, the lead time being `leeway` but at most half
    /// the token's lifetime. A token of 40 seconds is then due after 20, not the moment it is
    /// issued (with a 60-second `leeway`, every request would refresh it again: one grant
    /// per request instead of one per lifetime). Without `issuedAt` (tokens stored before it
    /// was recorded) the lead time is `leeway`; without `expiresAt` a token is never due.
    public static func isRefreshDue(expiresAt: Date?, issuedAt: Date?, leeway: Duration, now: Date) -> Bool {
        guard let expiresAt else { return false }
        var lead = Double(leeway.components.seconds) + Double(leeway.components.attoseconds) / 1e18
        if let issuedAt {
            lead = min(lead, max(0, expiresAt.timeIntervalSince(issuedAt)) / 2)
        }
        return expiresAt.timeIntervalSince(now) <= lead
    }

    /// The token set after a refresh: RFC 6749 §6 lets the server omit a new refresh token
    /// (keep the old one) and OIDC Core §12.2 lets it omit the ID token (keep the old one).
    public func updated(byRefresh refreshed: TokenSet) -> TokenSet {
        var result = refreshed
        if result.refreshToken == nil { result.refreshToken = refreshToken }
        if result.idToken == nil { result.idToken = idToken }
        if result.scope == nil { result.scope = scope }
        if result.dpopKey == nil { result.dpopKey = dpopKey }
        return result
    }
}

extension TokenSet: CustomStringConvertible {
    /// Never prints a token: safe in logs.
    public var description: String {
        "TokenSet(type: \(tokenType), expiresAt: \(expiresAt.map { "\($0)" } ?? "none"), "
            + "refreshToken: \(refreshToken == nil ? "no" : "yes"), idToken: \(idToken == nil ? "no" : "yes")"
            + (dpopKey == nil ? ")" : ", dpop: yes)")
    }
}
