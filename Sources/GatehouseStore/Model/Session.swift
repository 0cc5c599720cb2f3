public import Foundation
public import GatehouseOAuth

/// A stored session, decrypted: what a request handler works with.
///
/// The session id itself is not here (only the cookie holds it); ``idHash`` is its SHA-256.
public struct Session: Sendable {
    /// SHA-256 of the session id: the primary key, stable across token refreshes.
    public let idHash: SessionHash
    /// Who signed in; `identity.sessionID` is the IdP's `sid` (back-channel logout).
    public var identity: Identity
    /// The provider that authenticated the user (its configured name).
    public var provider: String
    /// The access token and what a request needs to know of the others. The refresh and ID
    /// tokens are read from the store only when needed (``SessionStore/loadWithTokenSet(hash:)``,
    /// ``SessionStore/end(_:)``), so they are never held in the cache.
    public var tokens: SessionTokens
    public var createdAt: Date
    /// The last recorded activity (written at most once per `touchInterval`).
    public var lastSeenAt: Date
    /// The idle deadline: slides forward with activity, never past ``absoluteExpiresAt``.
    public var idleExpiresAt: Date
    /// The hard end: login time plus the maximum age, or earlier when the refresh token
    /// expires earlier.
    public var absoluteExpiresAt: Date
    /// The compare-and-swap version of the stored token set.
    public var version: Int64

    public init(
        idHash: SessionHash, identity: Identity, provider: String, tokens: SessionTokens, createdAt: Date,
        lastSeenAt: Date, idleExpiresAt: Date, absoluteExpiresAt: Date, version: Int64
    ) {
        self.idHash = idHash
        self.identity = identity
        self.provider = provider
        self.tokens = tokens
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.idleExpiresAt = idleExpiresAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.version = version
    }

    /// Whether the session is over at `now` (idle or absolute deadline reached).
    public func isExpired(at now: Date) -> Bool {
        now >= idleExpiresAt || now >= absoluteExpiresAt
    }
}

extension Session: CustomStringConvertible {
    /// Never prints a token or the session id.
    public var description: String {
        "Session(\(idHash.shortDescription), subject: \(identity.subject), provider: \(provider), version: \(version))"
    }
}
