public import GatehouseStore
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``StorageDriver`` on one SQLite file (GRDB `DatabasePool`: WAL, concurrent readers, one
/// writer, a 5-second busy timeout). For a single gateway instance; several instances need
/// PostgreSQL. Call ``migrate()`` once before use.
///
/// Every call is asynchronous and runs on dispatch queues (GRDB's for writes, ``readQueue``
/// for reads), never on the caller's thread or an event loop.
public final class SQLiteDriver: StorageDriver {
    let pool: DatabasePool
    /// Where reads wait for a reader connection and run (see ``read(_:)``). Concurrent: GRDB's
    /// reader pool bounds how many run at once.
    let readQueue = DispatchQueue(label: "gatehouse.sqlite.read", qos: .userInitiated, attributes: .concurrent)
    /// The database file.
    public let path: String

    /// Opens (creating when missing, with mode 0600: it holds sealed tokens) the database at
    /// `path`. An existing file keeps its permissions.
    ///
    /// - Throws: ``StoreError/invalidConfiguration`` when the file cannot be created or opened.
    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreError.invalidConfiguration.withDetail("cannot create the SQLite file \(path): \(reason)")
        }
        close(descriptor)
        var configuration = Configuration()
        configuration.label = "gatehouse.sqlite"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // Every commit reaches the disk before it is reported: a committed session survives
            // a crash of the process or the machine.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.invalidConfiguration.withDetail("cannot open the SQLite file \(path): \(error)")
        }
    }

    /// Applies the versioned migrations that have not run yet (GRDB `DatabaseMigrator`).
    public func migrate() async throws {
        let migrator = Self.migrator
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            migrator.asyncMigrate(pool) { result in
                switch result {
                case .success: continuation.resume()
                case .failure(let error): continuation.resume(throwing: Self.storeError(error))
                }
            }
        }
    }

    public func insertSession(_ row: SessionRow) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO sessions (\(Self.sessionColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(row.idHash.bytes), row.subject, row.idpSessionID, row.provider, Data(row.sealed),
                    row.legacyClaims.map { Data($0) }, row.createdAt, row.lastSeenAt, row.idleExpiresAt,
                    row.absoluteExpiresAt, row.version,
                ])
        }
    }

    /// The hot path of every uncached request: a statement prepared once per connection
    /// (GRDB's statement cache), read by column index straight off the cursor.
    public func session(_ idHash: SessionHash) async throws -> SessionRow? {
        try await read { db in
            let statement = try db.cachedStatement(sql: Self.selectSession)
            let cursor = try Row.fetchCursor(statement, arguments: [Data(idHash.bytes)])
            return try cursor.next().map(Self.sessionRow)
        }
    }

    static let selectSession = "SELECT \(sessionColumns) FROM sessions WHERE id_hash = ?"

    public func touchSession(_ idHash: SessionHash, lastSeenAt: Int64, idleExpiresAt: Int64) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE sessions SET last_seen_at = ?, idle_expires_at = MIN(?, absolute_expires_at)
                    WHERE id_hash = ?
                    """,
                arguments: [lastSeenAt, idleExpiresAt, Data(idHash.bytes)])
        }
    }

    public func updateTokens(
        _ idHash: SessionHash, expectedVersion: Int64, sealed: [UInt8], absoluteExpiresAt: Int64
    ) async throws -> SessionRow? {
        try await write { db in
            try Row.fetchAll(
                db,
                sql: """
                    UPDATE sessions
                    SET sealed_session = ?, legacy_claims = NULL, absolute_expires_at = ?, version = version + 1
                    WHERE id_hash = ? AND version = ? RETURNING \(Self.sessionColumns)
                    """,
                arguments: [Data(sealed), absoluteExpiresAt, Data(idHash.bytes), expectedVersion]
            ).first.map(Self.sessionRow)
        }
    }

    public func deleteSession(_ idHash: SessionHash) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE id_hash = ?", arguments: [Data(idHash.bytes)])
            return db.changesCount > 0
        }
    }

    public func takeSession(_ idHash: SessionHash) async throws -> SessionRow? {
        try await write { db in
            try Row.fetchAll(
                db, sql: "DELETE FROM sessions WHERE id_hash = ? RETURNING \(Self.sessionColumns)",
                arguments: [Data(idHash.bytes)]
            ).first.map(Self.sessionRow)
        }
    }

    public func deleteSessions(subject: String, provider: String?) async throws -> [SessionHash] {
        try await write { db in
            try Row.fetchAll(
                db, sql: "DELETE FROM sessions WHERE subject = ?1 AND (?2 IS NULL OR provider = ?2) RETURNING id_hash",
                arguments: [subject, provider]
            ).map { try Self.hash($0, "id_hash") }
        }
    }

    public func deleteSessions(idpSessionID: String, provider: String?) async throws -> [SessionHash] {
        try await write { db in
            try Row.fetchAll(
                db,
                sql: "DELETE FROM sessions WHERE idp_session_id = ?1 AND (?2 IS NULL OR provider = ?2) RETURNING id_hash",
                arguments: [idpSessionID, provider]
            ).map { try Self.hash($0, "id_hash") }
        }
    }

    public func deleteAllSessions() async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM sessions")
            return db.changesCount
        }
    }

    public func listSessions(limit: Int) async throws -> [SessionRow] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.sessionColumns) FROM sessions ORDER BY created_at DESC LIMIT ?", arguments: [max(0, limit)]
            ).map(Self.sessionRow)
        }
    }

    public func countSessions(activeAt now: Int64) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM sessions WHERE idle_expires_at > ? AND absolute_expires_at > ?",
                arguments: [now, now]) ?? 0
        }
    }

    /// One process at a time holds SQLite's write lock; the caller's single-flight covers the
    /// rest. Runs `body`.
    public func withSessionLock<T: Sendable>(
        _ idHash: SessionHash, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await body()
    }
}
