import GatehouseStore
import Foundation
import GRDB

/// Row decoding and error mapping. Nothing read from the file is force-unwrapped: a bad value
/// is ``StoreError/corrupt``.
extension SQLiteDriver {
    /// Runs `body` in a read transaction on a reader connection, off the caller's thread.
    ///
    /// GRDB's `async` read hops four times between threads (to its pool's semaphore actor and
    /// back, to the reader's actor and back); on a 2-core machine those hand-offs cost more
    /// than the read itself. Here the task hops once to ``readQueue``, which uses GRDB's
    /// synchronous read (the reader's serial queue runs the block on the calling thread when
    /// idle), and once back when the continuation resumes. A read is not interrupted by task
    /// cancellation: it is one short statement.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            readQueue.async { [pool] in
                do {
                    continuation.resume(returning: try pool.read(body))
                } catch {
                    continuation.resume(throwing: Self.storeError(error))
                }
            }
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        let detail = "SQLite \(error.resultCode)"
        switch error.resultCode.primaryResultCode {
        case .SQLITE_CONSTRAINT: return StoreError.conflict.withDetail(detail)
        case .SQLITE_BUSY, .SQLITE_LOCKED: return StoreError.timeout.withDetail(detail)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return StoreError.corrupt.withDetail(detail)
        default: return StoreError.unavailable.withDetail(detail)
        }
    }

    static func hash(_ row: Row, _ column: String) throws -> SessionHash {
        guard let hash = SessionHash(bytes: Array(try row.decode(Data.self, forColumn: column))) else {
            throw StoreError.corrupt.withDetail("\(column) is not 32 bytes")
        }
        return hash
    }

    /// The columns of a session, in the order ``sessionRow(_:)`` reads them by index.
    static let sessionColumns = """
        id_hash, subject, idp_session_id, provider, sealed_session, legacy_claims, created_at, \
        last_seen_at, idle_expires_at, absolute_expires_at, version
        """

    /// A session from a row selected with ``sessionColumns``. Columns are read by index and
    /// blobs copied straight from SQLite's buffer (no name lookup, no intermediate `Data`).
    static func sessionRow(_ row: Row) throws -> SessionRow {
        guard let idHash = SessionHash(bytes: try bytes(row, 0)) else {
            throw StoreError.corrupt.withDetail("id_hash is not 32 bytes")
        }
        return SessionRow(
            idHash: idHash,
            subject: try row.decode(String.self, atIndex: 1),
            idpSessionID: try row.decode(String?.self, atIndex: 2),
            provider: try row.decode(String.self, atIndex: 3),
            sealed: try bytes(row, 4),
            legacyClaims: try optionalBytes(row, 5),
            createdAt: try row.decode(Int64.self, atIndex: 6),
            lastSeenAt: try row.decode(Int64.self, atIndex: 7),
            idleExpiresAt: try row.decode(Int64.self, atIndex: 8),
            absoluteExpiresAt: try row.decode(Int64.self, atIndex: 9),
            version: try row.decode(Int64.self, atIndex: 10))
    }

    /// A non-null blob column as bytes.
    private static func bytes(_ row: Row, _ index: Int) throws -> [UInt8] {
        guard let copied = try optionalBytes(row, index) else {
            throw StoreError.corrupt.withDetail("column \(index) is null")
        }
        return copied
    }

    /// A blob column as bytes, `nil` when null.
    private static func optionalBytes(_ row: Row, _ index: Int) throws -> [UInt8]? {
        try row.withUnsafeData(atIndex: index) { data in data.map { Array($0) } }
    }

    static func pendingRow(_ row: Row) throws -> PendingRow {
        PendingRow(
            stateHash: try hash(row, "state_hash"),
            bindingHash: try hash(row, "binding_hash"),
            nonce: try row.decode(String.self, forColumn: "nonce"),
            sealedVerifier: Array(try row.decode(Data.self, forColumn: "sealed_verifier")),
            returnPath: try row.decode(String.self, forColumn: "return_path"),
            provider: try row.decode(String.self, forColumn: "provider"),
            createdAt: try row.decode(Int64.self, forColumn: "created_at"),
            expiresAt: try row.decode(Int64.self, forColumn: "expires_at"))
    }
}
