public import Foundation

/// A session exactly as a storage driver keeps it: everything that decides identity sealed
/// (AES-GCM), times as milliseconds since 1970. Drivers never see plaintext tokens.
///
/// The clear columns are for lookups only (by subject or IdP session for logout, by expiry
/// for purging, by creation time for listing): ``SessionStore`` reads the identity, the
/// provider, the creation time and the absolute deadline from ``sealed`` and refuses a row
/// whose clear copies of them differ (see ``SessionPayload``).
public struct SessionRow: Sendable, Hashable {
    /// SHA-256 of the session id: the primary key.
    public var idHash: SessionHash
    /// `sub`, for "sign out everywhere"; a copy of the sealed one.
    public var subject: String
    /// The IdP's session id (`sid`), indexed for back-channel logout; a copy of the sealed one.
    public var idpSessionID: String?
    /// The provider's configured name; a copy of the sealed one.
    public var provider: String
    /// The sealed session (see ``KeyRing``), bound to `idHash`: identity, provider, creation
    /// time, absolute deadline and token set. In a row written before schema 2 (with
    /// ``legacyClaims``), the token set alone.
    public var sealed: [UInt8]
    /// The identity claims as clear JSON, only in rows written before schema 2. Never trusted
    /// as such: ``SessionStore`` serves such a row only when its sealed ID token vouches for
    /// every claim, and then re-seals it in the current form (which clears this column).
    public var legacyClaims: [UInt8]?
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var idleExpiresAt: Int64
    /// A copy of the sealed absolute deadline, for purging and counting.
    public var absoluteExpiresAt: Int64
    /// Incremented by every write of ``sealed``; those writes compare and swap on it.
    public var version: Int64

    public init(
        idHash: SessionHash, subject: String, idpSessionID: String?, provider: String, sealed: [UInt8],
        legacyClaims: [UInt8]? = nil, createdAt: Int64, lastSeenAt: Int64, idleExpiresAt: Int64,
        absoluteExpiresAt: Int64, version: Int64
    ) {
        self.idHash = idHash
        self.subject = subject
        self.idpSessionID = idpSessionID
        self.provider = provider
        self.sealed = sealed
        self.legacyClaims = legacyClaims
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
    /// Milliseconds since 1970 (to the nearest), as rows store time. Exact for a date made by
    /// ``init(storeMilliseconds:)``: the sealed creation time is compared with its column.
    public var storeMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    public init(storeMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000)
    }
}
