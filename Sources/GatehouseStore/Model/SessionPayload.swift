import GatehouseOAuth

/// What a session's sealed column holds besides its tokens: everything that decides who a
/// request belongs to and until when, so that write access to the database without the key
/// cannot change it (AES-GCM authenticates it, bound to the row's id hash: see ``KeyRing``).
///
/// The plaintext, binary (``CompactWriter``), the token set last:
///
///     0x02 | created at | absolute deadline | provider | identity | token set (TokenSetFormat v2)
///
/// Times are milliseconds since 1970 as 64-bit integers; `identity` is ``IdentityFormat``.
///
/// The row keeps clear copies of the subject, the IdP session id, the provider, the creation
/// time and the absolute deadline for lookups (logout by subject or `sid`, purging, listing);
/// ``check(against:)`` refuses a row whose copies differ from the sealed values.
///
/// `provider` is the configured provider's id. Format `0x01` (same layout) held the preset name
/// (`oidc`, `google`…) of the one provider there was; it reads as ``defaultProvider``.
struct SessionPayload: Sendable, Equatable {
    var identity: Identity
    var provider: String
    var createdAt: Int64
    var absoluteExpiresAt: Int64
    /// What a format-1 payload sealed as its provider (a preset name), else `nil`.
    var legacyProvider: String? = nil

    static let version1: UInt8 = 0x01
    static let version2: UInt8 = 0x02
    /// The id of the environment's one provider, which every format-1 session came from.
    static let defaultProvider = "default"

    /// The plaintext of this payload followed by `tokens`.
    func encode(with tokens: TokenSet) throws -> [UInt8] {
        var writer = CompactWriter(capacity: 72 + IdentityFormat.estimatedSize(of: identity))
        writer.byte(Self.version2)
        writer.int64(createdAt)
        writer.int64(absoluteExpiresAt)
        writer.string(provider)
        IdentityFormat.write(identity, into: &writer)
        try TokenSetFormat.encode(tokens, into: &writer)
        return writer.bytes
    }

    /// The payload and the request-time view of its tokens (the refresh and ID tokens are not
    /// decoded).
    ///
    /// - Throws: ``StoreError/corrupt`` when the plaintext is not a valid payload.
    static func decodeWithSessionTokens(_ plaintext: [UInt8]) throws -> (SessionPayload, SessionTokens) {
        let (payload, start) = try decode(plaintext)
        return (payload, try TokenSetFormat.decodeSessionTokens(plaintext, from: start))
    }

    /// The payload and its complete token set; throws as ``decodeWithSessionTokens(_:)``.
    static func decodeWithTokenSet(_ plaintext: [UInt8]) throws -> (SessionPayload, TokenSet) {
        let (payload, start) = try decode(plaintext)
        return (payload, try TokenSetFormat.decodeTokenSet(plaintext, from: start))
    }

    /// The payload and where its token set starts.
    private static func decode(_ plaintext: [UInt8]) throws -> (SessionPayload, Int) {
        guard let version = plaintext.first, version == version1 || version == version2 else {
            throw StoreError.corrupt.withDetail("sealed session of an unknown format")
        }
        var reader = CompactReader(plaintext, offset: 1)
        let createdAt = try reader.int64()
        let absoluteExpiresAt = try reader.int64()
        let provider = try reader.string()
        let identity = try IdentityFormat.read(from: &reader)
        let payload =
            version == version1
            ? SessionPayload(
                identity: identity, provider: defaultProvider, createdAt: createdAt,
                absoluteExpiresAt: absoluteExpiresAt, legacyProvider: provider)
            : SessionPayload(
                identity: identity, provider: provider, createdAt: createdAt, absoluteExpiresAt: absoluteExpiresAt)
        return (payload, reader.offset)
    }

    /// Refuses a row whose clear lookup columns differ from the sealed values: someone wrote
    /// to the database (another user's subject to dodge a logout, a later deadline…).
    ///
    /// - Throws: ``StoreError/tampered`` naming the column (never a value).
    func check(against row: SessionRow) throws {
        let mismatch: String? =
            if row.subject != identity.subject {
                "subject"
            } else if row.idpSessionID != identity.sessionID {
                "idp_session_id"
            } else if row.provider != provider, row.provider != legacyProvider {
                // A format-1 row may still hold its preset name (written by an older process
                // after the migration to ids).
                "provider"
            } else if row.createdAt != createdAt {
                "created_at"
            } else if row.absoluteExpiresAt != absoluteExpiresAt {
                "absolute_expires_at"
            } else {
                nil
            }
        if let mismatch {
            throw StoreError.tampered.withDetail("the \(mismatch) column does not match the sealed session")
        }
    }
}
