public import Foundation

/// The tokens from a token endpoint response (RFC 6749 §5.1), with the response's other fields
/// kept for provider-specific use.
public struct TokenSet: Sendable, Hashable, Codable {
    public var accessToken: String
    /// `token_type`, as sent (`Bearer`, `bearer`, `DPoP`, …).
    public var tokenType: String
    /// When the access token expires: the receipt time plus `expires_in`; `nil` if not stated.
    public var expiresAt: Date?
    public var refreshToken: String?
    public var idToken: String?
    /// The granted scopes when the server stated them (RFC 6749 §5.1: required if they differ
    /// from the requested ones).
    public var scope: [String]?
    /// Every other field of the response (`token_type`, `expires_in`, `scope` and any
    /// provider-specific one, such as `refresh_expires_in`); the three tokens themselves are
    /// kept only in their typed properties.
    public var raw: [String: JSONValue]

    public init(
        accessToken: String,
        tokenType: String = "Bearer",
        expiresAt: Date? = nil,
        refreshToken: String? = nil,
        idToken: String? = nil,
        scope: [String]? = nil,
        raw: [String: JSONValue] = [:]
    ) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.scope = scope
        self.raw = raw
    }

    /// Whether the access token expires within `leeway` of `now`. A token without a stated
    /// lifetime never counts as expiring.
    public func expires(within leeway: Duration, now: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= Double(leeway.components.seconds)
    }

    /// The token set after a refresh: RFC 6749 §6 lets the server omit a new refresh token
    /// (keep the old one) and OIDC Core §12.2 lets it omit the ID token (keep the old one).
    public func updated(byRefresh refreshed: TokenSet) -> TokenSet {
        var result = refreshed
        if result.refreshToken == nil { result.refreshToken = refreshToken }
        if result.idToken == nil { result.idToken = idToken }
        if result.scope == nil { result.scope = scope }
        return result
    }
}

extension TokenSet: CustomStringConvertible {
    /// Never prints a token: safe in logs.
    public var description: String {
        "TokenSet(type: \(tokenType), expiresAt: \(expiresAt.map { "\($0)" } ?? "none"), "
            + "refreshToken: \(refreshToken == nil ? "no" : "yes"), idToken: \(idToken == nil ? "no" : "yes"))"
    }
}
