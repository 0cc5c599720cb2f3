import Foundation
import GRDB
import PostgresNIO

@testable import GatehouseStore
@testable import GatehouseSQLite
@testable import GatehousePostgres

/// One column of a session row written directly to the database (no key, no store): what
/// someone with write access to it can do.
enum RowChange: Sendable {
    case subject(String)
    case idpSessionID(String?)
    case provider(String)
    case sealed([UInt8])
    case legacyClaims([UInt8]?)
    case createdAt(Int64)
    case idleExpiresAt(Int64)
    case absoluteExpiresAt(Int64)

    /// The column in the SQLite and PostgreSQL schemas.
    var column: String {
        switch self {
        case .subject: "subject"
        case .idpSessionID: "idp_session_id"
        case .provider: "provider"
        case .sealed: "sealed_session"
        case .legacyClaims: "legacy_claims"
        case .createdAt: "created_at"
        case .idleExpiresAt: "idle_expires_at"
        case .absoluteExpiresAt: "absolute_expires_at"
        }
    }

    /// Every column of `row` but the id hash, to copy one row's content over another's.
    static func all(of row: SessionRow) -> [RowChange] {
        [
            .subject(row.subject), .idpSessionID(row.idpSessionID), .provider(row.provider), .sealed(row.sealed),
            .legacyClaims(row.legacyClaims), .createdAt(row.createdAt), .idleExpiresAt(row.idleExpiresAt),
            .absoluteExpiresAt(row.absoluteExpiresAt),
        ]
    }

    static func apply(_ change: RowChange, to hash: SessionHash, in driver: any StorageDriver) async throws {
        switch driver {
        case let memory as MemoryDriver:
            memory.overwrite(hash) { change.apply(to: &$0) }
        case let sqlite as SQLiteDriver:
            let value: DatabaseValue =
                switch change {
                case .subject(let text), .provider(let text): text.databaseValue
                case .idpSessionID(let text): text.databaseValue
                case .sealed(let bytes): Data(bytes).databaseValue
                case .legacyClaims(let bytes): bytes.map { Data($0) }.databaseValue
                case .createdAt(let time), .idleExpiresAt(let time), .absoluteExpiresAt(let time): time.databaseValue
                }
            try await sqlite.pool.write { db in
                try db.execute(
                    sql: "UPDATE sessions SET \(change.column) = ? WHERE id_hash = ?",
                    arguments: [value, Data(hash.bytes)])
            }
        case let postgres as PostgresDriver:
            let key = PostgresDriver.bytea(hash.bytes)
            let column = change.column
            let query: PostgresQuery =
                switch change {
                case .subject(let text), .provider(let text):
                    "UPDATE gatehouse_sessions SET \(unescaped: column) = \(text) WHERE id_hash = \(key)"
                case .idpSessionID(let text):
                    "UPDATE gatehouse_sessions SET \(unescaped: column) = \(text) WHERE id_hash = \(key)"
                case .sealed(let bytes):
                    "UPDATE gatehouse_sessions SET \(unescaped: column) = \(PostgresDriver.bytea(bytes)) WHERE id_hash = \(key)"
                case .legacyClaims(let bytes):
                    "UPDATE gatehouse_sessions SET \(unescaped: column) = \(bytes.map(PostgresDriver.bytea)) WHERE id_hash = \(key)"
                case .createdAt(let time), .idleExpiresAt(let time), .absoluteExpiresAt(let time):
                    "UPDATE gatehouse_sessions SET \(unescaped: column) = \(time) WHERE id_hash = \(key)"
                }
            try await postgres.rows("test overwrite", query)
        default:
            throw StoreError.invalidConfiguration.withDetail("no direct write for \(type(of: driver))")
        }
    }

    private func apply(to row: inout SessionRow) {
        switch self {
        case .subject(let value): row.subject = value
        case .idpSessionID(let value): row.idpSessionID = value
        case .provider(let value): row.provider = value
        case .sealed(let value): row.sealed = value
        case .legacyClaims(let value): row.legacyClaims = value
        case .createdAt(let value): row.createdAt = value
        case .idleExpiresAt(let value): row.idleExpiresAt = value
        case .absoluteExpiresAt(let value): row.absoluteExpiresAt = value
        }
    }
}
