import Foundation
import GatehouseOAuth

/// A ``Session`` as the cache holds it: few heap allocations per entry.
///
/// A `Session` spreads over a dozen heap objects (every string over 15 bytes has its own,
/// with a 32-byte header and malloc rounding; each array another). Here the claims, the
/// provider, the token type and the scope share one byte buffer (``CompactWriter`` layout);
/// the access token keeps its own string, shared with every `Session` handed out; dates and
/// counters are stored inline. Reading an entry rebuilds the `Session` (a few short strings).
struct CachedSession {
    private var packed: [UInt8]
    private var accessToken: String
    private var expiresAt: Double
    private var issuedAt: Double
    private var flags: UInt8
    /// The DPoP key object itself (decoding it again per read would cost a curve operation).
    private var dpopKey: DPoPKey?
    var createdAt: Date
    var lastSeenAt: Date
    var idleExpiresAt: Date
    var absoluteExpiresAt: Date
    var version: Int64

    private static let hasExpiry: UInt8 = 1
    private static let hasRefreshToken: UInt8 = 2
    private static let hasIDToken: UInt8 = 4
    private static let hasScope: UInt8 = 8
    private static let hasIssuedAt: UInt8 = 16

    init(_ session: Session) {
        let identity = session.identity
        let tokens = session.tokens
        var size = 8 + IdentityFormat.estimatedSize(of: identity) + session.provider.utf8.count
        size += tokens.tokenType.utf8.count
        for item in tokens.scope ?? [] { size += 2 + item.utf8.count }
        var writer = CompactWriter(capacity: size)
        IdentityFormat.write(identity, into: &writer)
        writer.string(session.provider)
        writer.string(tokens.tokenType)
        if let scope = tokens.scope {
            writer.length(scope.count)
            for item in scope { writer.string(item) }
        }
        packed = writer.bytes
        accessToken = tokens.accessToken
        expiresAt = tokens.expiresAt?.timeIntervalSinceReferenceDate ?? 0
        issuedAt = tokens.issuedAt?.timeIntervalSinceReferenceDate ?? 0
        flags = 0
        if tokens.expiresAt != nil { flags |= Self.hasExpiry }
        if tokens.issuedAt != nil { flags |= Self.hasIssuedAt }
        if tokens.hasRefreshToken { flags |= Self.hasRefreshToken }
        if tokens.hasIDToken { flags |= Self.hasIDToken }
        if tokens.scope != nil { flags |= Self.hasScope }
        dpopKey = tokens.dpopKey
        createdAt = session.createdAt
        lastSeenAt = session.lastSeenAt
        idleExpiresAt = session.idleExpiresAt
        absoluteExpiresAt = session.absoluteExpiresAt
        version = session.version
    }

    /// The session again; `nil` only if the buffer were malformed (then the entry is a miss).
    func session(idHash: SessionHash) -> Session? {
        var reader = CompactReader(packed)
        do {
            let identity = try IdentityFormat.read(from: &reader)
            let provider = try reader.string()
            let tokenType = try reader.string()
            var scope: [String]?
            if flags & Self.hasScope != 0 {
                let count = try reader.length()
                var items: [String] = []
                items.reserveCapacity(count)
                for _ in 0..<count { items.append(try reader.string()) }
                scope = items
            }
            let tokens = SessionTokens(
                accessToken: accessToken, tokenType: tokenType,
                expiresAt: flags & Self.hasExpiry != 0 ? Date(timeIntervalSinceReferenceDate: expiresAt) : nil,
                issuedAt: flags & Self.hasIssuedAt != 0 ? Date(timeIntervalSinceReferenceDate: issuedAt) : nil,
                scope: scope, hasRefreshToken: flags & Self.hasRefreshToken != 0,
                hasIDToken: flags & Self.hasIDToken != 0, dpopKey: dpopKey)
            return Session(
                idHash: idHash, identity: identity, provider: provider, tokens: tokens, createdAt: createdAt,
                lastSeenAt: lastSeenAt, idleExpiresAt: idleExpiresAt, absoluteExpiresAt: absoluteExpiresAt,
                version: version)
        } catch {
            return nil
        }
    }
}
