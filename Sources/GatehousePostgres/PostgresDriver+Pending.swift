public import GatehouseStore
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

    /// `DELETE … WHERE state_hash = … AND binding_hash = … RETURNING`: only the bound browser
    /// takes the row (one caller in any process); otherwise a read tells a live row bound to
    /// another browser (left in place) from no row at all.
    public func takePending(_ stateHash: SessionHash, bindingHash: SessionHash, now: Int64) async throws -> PendingTake {
        let taken = try await rows(
            "takePending",
            """
            DELETE FROM gatehouse_pending
            WHERE state_hash = \(Self.bytea(stateHash.bytes)) AND binding_hash = \(Self.bytea(bindingHash.bytes))
            RETURNING \(unescaped: Self.pendingColumns)
            """)
        if let row = try taken.first.map(Self.pendingRow) {
            return now < row.expiresAt ? .taken(row) : .none
        }
        let live = try await rows(
            "takePending",
            """
            SELECT count(*) FROM gatehouse_pending
            WHERE state_hash = \(Self.bytea(stateHash.bytes)) AND expires_at > \(now)
            """)
        return try Self.singleInt(live) > 0 ? .bindingMismatch : .none
    }

    /// A range on the primary key (the prefix padded with `00` and `FF` bytes) and the binding.
    public func deletePending(stateHashPrefix: [UInt8], bindingHash: SessionHash) async throws -> Bool {
        guard let (low, high) = SessionHash.bounds(prefix: stateHashPrefix) else { return false }
        let deleted = try await rows(
            "deletePending",
            """
            DELETE FROM gatehouse_pending
            WHERE state_hash BETWEEN \(Self.bytea(low)) AND \(Self.bytea(high))
              AND binding_hash = \(Self.bytea(bindingHash.bytes))
            RETURNING 1
            """)
        return !deleted.isEmpty
    }

    public func countPending(activeAt now: Int64) async throws -> Int {
        let count = try await rows(
            "countPending", "SELECT count(*) FROM gatehouse_pending WHERE expires_at > \(now)")
        return Int(try Self.singleInt(count))
    }

    public func purgeExpiredPending(now: Int64, limit: Int) async throws -> Int {
        guard limit > 0 else { return 0 }
        return Int(try await purgePendingBatch(now: now, limit: Int64(limit)))
    }

    /// One bounded batch of expired pending rows (a MATERIALIZED CTE, so the LIMIT is evaluated
    /// once; `SKIP LOCKED` lets several gateways purge side by side).
    private func purgePendingBatch(now: Int64, limit: Int64) async throws -> Int64 {
        try Self.singleInt(
            try await rows(
                "purgeExpired",
                """
                WITH batch AS MATERIALIZED (
                    SELECT state_hash FROM gatehouse_pending WHERE expires_at <= \(now)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED),
                deleted AS (
                    DELETE FROM gatehouse_pending p USING batch b WHERE p.state_hash = b.state_hash
                    RETURNING 1)
                SELECT count(*) FROM deleted
                """))
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
        return Int(sessions + (try await purgePendingBatch(now: now, limit: left)))
    }
}
