import PostgresNIO

extension PostgresDriver {
    public func insertPending(_ row: PendingRow) async throws {
        try await rows(
            "insertPending",
            """
            INSERT INTO gatehouse_pending (\(unescaped: Self.pendingColumns))
            VALUES (\(Self.bytea(row.stateHash.bytes)), \(Self.bytea(row.bindingHash.bytes)), \(row.nonce),
                    \(Self.bytea(row.sealedVerifier)), \(row.returnPath), \(row.provider), \(row.createdAt),
                    \(row.expiresAt))
            """)
    }

    /// `DELETE … RETURNING`: the row lock makes exactly one caller, in any process, get the
    /// row. An expired row (`now >= expiresAt`) is deleted all the same and `nil` returned.
    public func takePending(_ stateHash: SessionHash, now: Int64) async throws -> PendingRow? {
        let taken = try await rows(
            "takePending",
            """
            DELETE FROM gatehouse_pending WHERE state_hash = \(Self.bytea(stateHash.bytes))
            RETURNING \(unescaped: Self.pendingColumns)
            """)
        guard let row = try taken.first.map(Self.pendingRow), now < row.expiresAt else { return nil }
        return row
    }

    /// Deletes at most `limit` expired rows: sessions first, then pending authorizations, each
    /// in one bounded statement (the batch is a MATERIALIZED CTE, so its LIMIT is evaluated once). `SKIP LOCKED` lets several gateways purge side by side.
    public func purgeExpired(now: Int64, limit: Int) async throws -> Int {
        guard limit > 0 else { return 0 }
        let sessions = try Self.singleInt(
            try await rows(
                "purgeExpired",
                """
                WITH batch AS MATERIALIZED (
                    SELECT id_hash FROM gatehouse_sessions
                    WHERE idle_expires_at <= \(now) OR absolute_expires_at <= \(now)
                    LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED),
                deleted AS (
                    DELETE FROM gatehouse_sessions s USING batch b WHERE s.id_hash = b.id_hash
                    RETURNING 1)
                SELECT count(*) FROM deleted
                """))
        let left = Int64(limit) - sessions
        guard left > 0 else { return Int(sessions) }
        let pending = try Self.singleInt(
            try await rows(
                "purgeExpired",
                """
                WITH batch AS MATERIALIZED (
                    SELECT state_hash FROM gatehouse_pending WHERE expires_at <= \(now)
                    LIMIT \(left) FOR UPDATE SKIP LOCKED),
                deleted AS (
                    DELETE FROM gatehouse_pending p USING batch b WHERE p.state_hash = b.state_hash
                    RETURNING 1)
                SELECT count(*) FROM deleted
                """))
        return Int(sessions + pending)
    }
}
