import Foundation
import GRDB

/// Row decoding and error mapping. Nothing read from the file is force-unwrapped: a bad value
/// is ``StoreError/corrupt``.
extension SQLiteDriver {
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
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

    static func sessionRow(_ row: Row) throws -> SessionRow {
        SessionRow(
            idHash: try hash(row, "id_hash"),
            subject: try row.decode(String.self, forColumn: "subject"),
            idpSessionID: try row.decode(String?.self, forColumn: "idp_session_id"),
            provider: try row.decode(String.self, forColumn: "provider"),
            claims: Array(try row.decode(Data.self, forColumn: "claims")),
            sealedTokens: Array(try row.decode(Data.self, forColumn: "sealed_tokens")),
            createdAt: try row.decode(Int64.self, forColumn: "created_at"),
            lastSeenAt: try row.decode(Int64.self, forColumn: "last_seen_at"),
            idleExpiresAt: try row.decode(Int64.self, forColumn: "idle_expires_at"),
            absoluteExpiresAt: try row.decode(Int64.self, forColumn: "absolute_expires_at"),
            version: try row.decode(Int64.self, forColumn: "version"))
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
