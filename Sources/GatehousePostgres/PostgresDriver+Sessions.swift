public import GatehouseStore
import PostgresNIO

extension PostgresDriver {
    public func insertSession(_ row: SessionRow) async throws {
        try await rows(
            "insertSession",
            """
            INSERT INTO gatehouse_sessions (\(unescaped: Self.sessionColumns))
            VALUES (\(Self.bytea(row.idHash.bytes)), \(row.subject), \(row.idpSessionID), \(row.provider),
                    \(Self.bytea(row.sealed)), \(row.legacyClaims.map(Self.bytea)), \(row.createdAt), \(row.lastSeenAt),
                    \(row.idleExpiresAt), \(row.absoluteExpiresAt), \(row.version))
            """)
    }

    public func session(_ idHash: SessionHash) async throws -> SessionRow? {
        let found = try await rows(
            "session",
            """
            SELECT \(unescaped: Self.sessionColumns) FROM gatehouse_sessions
            WHERE id_hash = \(Self.bytea(idHash.bytes))
            """)
        return try found.first.map(Self.sessionRow)
    }

    /// Sets `last_seen_at` and `idle_expires_at`, the latter capped at `absolute_expires_at`.
    /// A missing row is not an error (it may have just been deleted).
    public func touchSession(_ idHash: SessionHash, lastSeenAt: Int64, idleExpiresAt: Int64) async throws {
        try await rows(
            "touchSession",
            """
            UPDATE gatehouse_sessions
            SET last_seen_at = \(lastSeenAt), idle_expires_at = LEAST(\(idleExpiresAt), absolute_expires_at)
            WHERE id_hash = \(Self.bytea(idHash.bytes))
            """)
    }

    /// Compare-and-swap on `version`: one statement, so concurrent updaters in any number of
    /// processes see exactly one success per version.
    public func updateTokens(
        _ idHash: SessionHash, expectedVersion: Int64, sealed: [UInt8], absoluteExpiresAt: Int64
    ) async throws -> SessionRow? {
        let updated = try await rows(
            "updateTokens",
            """
            UPDATE gatehouse_sessions
            SET sealed_session = \(Self.bytea(sealed)), legacy_claims = NULL,
                absolute_expires_at = \(absoluteExpiresAt), version = version + 1
            WHERE id_hash = \(Self.bytea(idHash.bytes)) AND version = \(expectedVersion)
            RETURNING \(unescaped: Self.sessionColumns)
            """)
        return try updated.first.map(Self.sessionRow)
    }

    public func deleteSession(_ idHash: SessionHash) async throws -> Bool {
        let deleted = try await deleting(
            "deleteSession", "DELETE FROM gatehouse_sessions WHERE id_hash = \(Self.bytea(idHash.bytes)) RETURNING id_hash")
        return !deleted.isEmpty
    }

    public func takeSession(_ idHash: SessionHash) async throws -> SessionRow? {
        let deleted = try await rows(
            "takeSession",
            """
            DELETE FROM gatehouse_sessions WHERE id_hash = \(Self.bytea(idHash.bytes))
            RETURNING \(unescaped: Self.sessionColumns)
            """)
        return try deleted.first.map(Self.sessionRow)
    }

    public func deleteSessions(subject: String, provider: String?) async throws -> [SessionHash] {
        try await deleting(
            "deleteSessions(subject:)",
            """
            DELETE FROM gatehouse_sessions WHERE subject = \(subject)
                AND (\(provider)::text IS NULL OR provider = \(provider)) RETURNING id_hash
            """)
    }

    public func deleteSessions(idpSessionID: String, provider: String?) async throws -> [SessionHash] {
        try await deleting(
            "deleteSessions(idpSessionID:)",
            """
            DELETE FROM gatehouse_sessions WHERE idp_session_id = \(idpSessionID)
                AND (\(provider)::text IS NULL OR provider = \(provider)) RETURNING id_hash
            """)
    }

    public func deleteAllSessions() async throws -> Int {
        let count = try await rows(
            "deleteAllSessions",
            "WITH deleted AS (DELETE FROM gatehouse_sessions RETURNING 1) SELECT count(*) FROM deleted")
        return Int(try Self.singleInt(count))
    }

    /// Newest first; ties broken by hash so the order is stable.
    public func listSessions(limit: Int) async throws -> [SessionRow] {
        let found = try await rows(
            "listSessions",
            """
            SELECT \(unescaped: Self.sessionColumns) FROM gatehouse_sessions
            ORDER BY created_at DESC, id_hash LIMIT \(Int64(max(0, limit)))
            """)
        return try found.map(Self.sessionRow)
    }

    /// Sessions with both expiries after `now` (see ``SessionRow/isExpired(at:)``).
    public func countSessions(activeAt now: Int64) async throws -> Int {
        let count = try await rows(
            "countSessions",
            """
            SELECT count(*) FROM gatehouse_sessions
            WHERE idle_expires_at > \(now) AND absolute_expires_at > \(now)
            """)
        return Int(try Self.singleInt(count))
    }

    /// Runs a `DELETE … RETURNING id_hash` and returns the hashes.
    private func deleting(_ operation: String, _ query: PostgresQuery) async throws -> [SessionHash] {
        try await rows(operation, query).map { row in
            try Self.hash(row.decode(ByteBuffer.self), column: "id_hash")
        }
    }
}
