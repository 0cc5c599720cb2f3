public import GatehouseStore
import Foundation
import GRDB

extension SQLiteDriver {
    public func insertPending(_ row: PendingRow) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO pending_authorizations (state_hash, binding_hash, nonce, sealed_verifier,
                        return_path, provider, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(row.stateHash.bytes), Data(row.bindingHash.bytes), row.nonce, Data(row.sealedVerifier),
                    row.returnPath, row.provider, row.createdAt, row.expiresAt,
                ])
        }
    }

    /// `DELETE … RETURNING` in one write transaction: SQLite serialises writers (across
    /// processes too), so exactly one caller deletes, and so receives, the row.
    public func takePending(_ stateHash: SessionHash, now: Int64) async throws -> PendingRow? {
        let row = try await write { db in
            try Row.fetchAll(
                db, sql: "DELETE FROM pending_authorizations WHERE state_hash = ? RETURNING *",
                arguments: [Data(stateHash.bytes)]
            ).first.map(Self.pendingRow)
        }
        guard let row, row.expiresAt > now else { return nil }
        return row
    }

    /// One write transaction: SQLite serialises writers, so exactly one caller with the right
    /// binding deletes, and so receives, the row; a wrong binding deletes nothing.
    public func takePending(_ stateHash: SessionHash, bindingHash: SessionHash, now: Int64) async throws -> PendingTake {
        try await write { db in
            if let row = try Row.fetchAll(
                db, sql: "DELETE FROM pending_authorizations WHERE state_hash = ? AND binding_hash = ? RETURNING *",
                arguments: [Data(stateHash.bytes), Data(bindingHash.bytes)]
            ).first.map(Self.pendingRow) {
                return row.expiresAt > now ? .taken(row) : PendingTake.none
            }
            let live = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM pending_authorizations WHERE state_hash = ? AND expires_at > ?",
                arguments: [Data(stateHash.bytes), now]) ?? 0
            return live > 0 ? .bindingMismatch : PendingTake.none
        }
    }

    /// A range on the primary key (the prefix padded with `00` and `FF` bytes) and the binding.
    public func deletePending(stateHashPrefix: [UInt8], bindingHash: SessionHash) async throws -> Bool {
        guard let (low, high) = SessionHash.bounds(prefix: stateHashPrefix) else { return false }
        return try await write { db in
            try db.execute(
                sql: "DELETE FROM pending_authorizations WHERE state_hash BETWEEN ? AND ? AND binding_hash = ?",
                arguments: [Data(low), Data(high), Data(bindingHash.bytes)])
            return db.changesCount > 0
        }
    }

    public func countPending(activeAt now: Int64) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending_authorizations WHERE expires_at > ?", arguments: [now])
                ?? 0
        }
    }

    public func purgeExpiredPending(now: Int64, limit: Int) async throws -> Int {
        guard limit > 0 else { return 0 }
        return try await write { db in
            try db.execute(
                sql: """
                    DELETE FROM pending_authorizations WHERE state_hash IN (
                        SELECT state_hash FROM pending_authorizations WHERE expires_at <= ? LIMIT ?)
                    """,
                arguments: [now, limit])
            return db.changesCount
        }
    }

    /// Deletes at most `limit` rows in one short write transaction: expired sessions first,
    /// then expired pending authorizations.
    public func purgeExpired(now: Int64, limit: Int) async throws -> Int {
        try await write { db in
            let limit = max(0, limit)
            try db.execute(
                sql: """
                    DELETE FROM sessions WHERE id_hash IN (
                        SELECT id_hash FROM sessions WHERE idle_expires_at <= ? OR absolute_expires_at <= ? LIMIT ?)
                    """,
                arguments: [now, now, limit])
            let sessions = db.changesCount
            guard sessions < limit else { return sessions }
            try db.execute(
                sql: """
                    DELETE FROM pending_authorizations WHERE state_hash IN (
                        SELECT state_hash FROM pending_authorizations WHERE expires_at <= ? LIMIT ?)
                    """,
                arguments: [now, limit - sessions])
            return sessions + db.changesCount
        }
    }
}
