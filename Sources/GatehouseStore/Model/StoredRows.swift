public import Foundation

/// A session exactly as a storage driver keeps it: secrets already sealed (AES-GCM), times as
/// milliseconds since 1970. Drivers never see plaintext tokens.
public struct SessionRow: Sendable, Hashable {
    /// SHA-256 of the session id: the primary key.
    public var idHash: SessionHash
    public var subject: String
    /// The IdP's session id (`sid`), indexed for back-channel logout.
    public var idpSessionID: String?
    public var provider: String
    /// The identity claims the gateway needs, as JSON (not secret; not encrypted).
    public var claims: [UInt8]
    /// The sealed token set (see ``KeyRing``), bound to `idHash`.
    public var sealedTokens: [UInt8]
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var idleExpiresAt: Int64
    public var absoluteExpiresAt: Int64
    /// Incremented by every token update; updates compare and swap on it.
    public var version: Int64

    public init(
        idHash: SessionHash, subject: String, idpSessionID: String?, provider: String, claims: [UInt8],
        sealedTokens: [UInt8], createdAt: Int64, lastSeenAt: Int64, idleExpiresAt: Int64,
        absoluteExpiresAt: Int64, version: Int64
    ) {
        self.idHash = idHash
        self.subject = subject
        self.idpSessionID = idpSessionID
        self.provider = provider
        self.claims = claims
        self.sealedTokens = sealedTokens
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.idleExpiresAt = idleExpiresAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.version = version
    }

    /// Whether the session is over at `now` (milliseconds).
    public func isExpired(at now: Int64) -> Bool {
        now >= idleExpiresAt || now >= absoluteExpiresAt
    }
}

/// One login attempt in flight, as a driver keeps it.
public struct PendingRow: Sendable, Hashable {
    /// SHA-256 of `state`: the primary key.
    public var stateHash: SessionHash
    /// SHA-256 of the browser-binding cookie value.
    public var bindingHash: SessionHash
    public var nonce: String
    /// The sealed PKCE verifier, bound to `stateHash`.
    public var sealedVerifier: [UInt8]
    public var returnPath: String
    public var provider: String
    public var createdAt: Int64
    public var expiresAt: Int64

    public init(
        stateHash: SessionHash, bindingHash: SessionHash, nonce: String, sealedVerifier: [UInt8],
        returnPath: String, provider: String, createdAt: Int64, expiresAt: Int64
    ) {
        self.stateHash = stateHash
        self.bindingHash = bindingHash
        self.nonce = nonce
        self.sealedVerifier = sealedVerifier
        self.returnPath = returnPath
        self.provider = provider
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

extension Date {
    /// Milliseconds since 1970, as rows store time.
    public var storeMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(storeMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000)
    }
}
