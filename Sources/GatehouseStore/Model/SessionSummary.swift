public import Foundation

/// One line of `gatehouse sessions list`: no tokens, no full hash.
public struct SessionSummary: Sendable, Hashable {
    /// The full id hash, for ``SessionStore/delete(_:)``.
    public let idHash: SessionHash
    /// The first 12 hex digits of the id hash: enough to tell sessions apart, and to revoke one
    /// by prefix.
    public let idHashPrefix: String
    public let subject: String
    public let email: String?
    public let provider: String
    public let createdAt: Date
    public let lastSeenAt: Date
    public let idleExpiresAt: Date
    public let absoluteExpiresAt: Date

    public init(
        idHash: SessionHash, idHashPrefix: String, subject: String, email: String?, provider: String, createdAt: Date,
        lastSeenAt: Date, idleExpiresAt: Date, absoluteExpiresAt: Date
    ) {
        self.idHash = idHash
        self.idHashPrefix = idHashPrefix
        self.subject = subject
        self.email = email
        self.provider = provider
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.idleExpiresAt = idleExpiresAt
        self.absoluteExpiresAt = absoluteExpiresAt
    }
}
