import GatehouseStore
import PostgresNIO

extension PostgresDriver {
    /// The columns of `gatehouse_sessions`, in the order ``sessionRow(_:)`` decodes.
    static let sessionColumns = """
        id_hash, subject, idp_session_id, provider, sealed_session, legacy_claims, created_at, \
        last_seen_at, idle_expires_at, absolute_expires_at, version
        """

    /// The columns of `gatehouse_pending`, in the order ``pendingRow(_:)`` decodes.
    static let pendingColumns = """
        state_hash, binding_hash, nonce, sealed_verifier, return_path, provider, created_at, expires_at
        """

    static func sessionRow(_ row: PostgresRow) throws -> SessionRow {
        let (
            idHash, subject, idpSessionID, provider, sealed, legacyClaims, createdAt, lastSeenAt, idleExpiresAt,
            absoluteExpiresAt, version
        ) = try row.decode(
            (ByteBuffer, String, String?, String, ByteBuffer, ByteBuffer?, Int64, Int64, Int64, Int64, Int64).self)
        return SessionRow(
            idHash: try hash(idHash, column: "id_hash"), subject: subject, idpSessionID: idpSessionID,
            provider: provider, sealed: bytes(sealed), legacyClaims: legacyClaims.map(bytes), createdAt: createdAt,
            lastSeenAt: lastSeenAt, idleExpiresAt: idleExpiresAt, absoluteExpiresAt: absoluteExpiresAt,
            version: version)
    }

    static func pendingRow(_ row: PostgresRow) throws -> PendingRow {
        let (stateHash, bindingHash, nonce, sealedVerifier, returnPath, provider, createdAt, expiresAt) =
            try row.decode((ByteBuffer, ByteBuffer, String, ByteBuffer, String, String, Int64, Int64).self)
        return PendingRow(
            stateHash: try hash(stateHash, column: "state_hash"),
            bindingHash: try hash(bindingHash, column: "binding_hash"), nonce: nonce,
            sealedVerifier: bytes(sealedVerifier), returnPath: returnPath, provider: provider,
            createdAt: createdAt, expiresAt: expiresAt)
    }

    /// A stored hash column back as a ``SessionHash``.
    static func hash(_ buffer: ByteBuffer, column: String) throws -> SessionHash {
        guard let hash = SessionHash(bytes: bytes(buffer)) else {
            throw StoreError.corrupt.withDetail("\(column) is not 32 bytes")
        }
        return hash
    }

    static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        Array(buffer.readableBytesView)
    }

    /// A byte array as a `bytea` parameter (a plain `[UInt8]` would bind as `"char"[]`).
    static func bytea(_ bytes: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: bytes)
    }

    /// The single `bigint` of a one-row result (`count(*)` and friends).
    static func singleInt(_ rows: [PostgresRow]) throws -> Int64 {
        guard let row = rows.first else { throw StoreError.corrupt.withDetail("no result row") }
        return try row.decode(Int64.self)
    }
}
