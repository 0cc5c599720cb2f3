public import Foundation
public import GatehouseOAuth

/// What a request needs of a session's tokens: the access token and facts about the others.
///
/// The refresh and ID tokens themselves are not here, because sessions are cached in memory
/// and those two are needed only to refresh or to sign out: they stay sealed in the store
/// until ``SessionStore/loadWithTokenSet(hash:)`` or ``SessionStore/end(_:)`` reads them.
/// That keeps a cached session small and means code holding a ``Session`` cannot mistake "not
/// loaded" for "no refresh token": ``hasRefreshToken`` says whether one exists.
public struct SessionTokens: Sendable, Hashable {
    /// The access token, for `Authorization: Bearer` to the upstream.
    public var accessToken: String
    /// `token_type`, as sent (`Bearer`, `bearer`, `DPoP`, …).
    public var tokenType: String
    /// When the access token expires; `nil` if the provider did not say.
    public var expiresAt: Date?
    /// When it was issued (``TokenSet/issuedAt``); `nil` if unknown.
    public var issuedAt: Date?
    /// The granted scopes when the provider stated them.
    public var scope: [String]?
    /// Whether the stored token set holds a refresh token (so the session can be refreshed).
    public var hasRefreshToken: Bool
    /// Whether the stored token set holds an ID token (for `id_token_hint` at sign-out).
    public var hasIDToken: Bool
    /// The key the tokens are bound to (``TokenSet/dpopKey``): each use of the access token
    /// needs a fresh proof of it (`Authorization: DPoP`).
    public var dpopKey: DPoPKey?

    public init(
        accessToken: String, tokenType: String = "Bearer", expiresAt: Date? = nil, issuedAt: Date? = nil,
        scope: [String]? = nil, hasRefreshToken: Bool, hasIDToken: Bool, dpopKey: DPoPKey? = nil
    ) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.scope = scope
        self.hasRefreshToken = hasRefreshToken
        self.hasIDToken = hasIDToken
        self.dpopKey = dpopKey
    }

    /// The request-time view of a complete token set.
    public init(_ tokenSet: TokenSet) {
        self.init(
            accessToken: tokenSet.accessToken, tokenType: tokenSet.tokenType, expiresAt: tokenSet.expiresAt,
            issuedAt: tokenSet.issuedAt, scope: tokenSet.scope, hasRefreshToken: tokenSet.refreshToken != nil, hasIDToken: tokenSet.idToken != nil,
            dpopKey: tokenSet.dpopKey)
    }

    /// Whether the access token is due for a refresh at `now`: less than `leeway` of it left,
    /// but never before half its lifetime (``TokenSet/isRefreshDue(expiresAt:issuedAt:leeway:now:)``).
    public func refreshDue(leeway: Duration, now: Date) -> Bool {
        TokenSet.isRefreshDue(expiresAt: expiresAt, issuedAt: issuedAt, leeway: leeway, now: now)
    }

    /// Whether the access token expires within `leeway` of `now`. A token without a stated
    /// lifetime never counts as expiring (as ``TokenSet/expires(within:now:)``).
    public func expires(within leeway: Duration, now: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= Double(leeway.components.seconds)
    }
}

extension SessionTokens: CustomStringConvertible {
    /// Never prints a token: safe in logs.
    public var description: String {
        "SessionTokens(type: \(tokenType), expiresAt: \(expiresAt.map { "\($0)" } ?? "none"), "
            + "refreshToken: \(hasRefreshToken ? "yes" : "no"), idToken: \(hasIDToken ? "yes" : "no")"
            + (dpopKey == nil ? ")" : ", dpop: yes)")
    }
}

/// A session with its complete token set, refresh and ID tokens included, as read from the
/// store's driver. Never cached: the calls that return it read (and decrypt) the row.
public struct SessionWithTokenSet: Sendable {
    /// The session, as ``SessionStore/load(_:)`` would return it.
    public var session: Session
    /// Every token, decrypted. `session.tokens` is its request-time view.
    public var tokenSet: TokenSet

    public init(session: Session, tokenSet: TokenSet) {
        self.session = session
        self.tokenSet = tokenSet
    }
}

extension SessionWithTokenSet: CustomStringConvertible {
    /// Never prints a token or the session id.
    public var description: String { "SessionWithTokenSet(\(session), \(tokenSet))" }
}
