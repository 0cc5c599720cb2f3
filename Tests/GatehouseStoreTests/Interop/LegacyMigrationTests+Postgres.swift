import Foundation
import GatehouseOAuth
import GRDB
import Logging
import PostgresNIO
import Testing
@testable import GatehouseStore
@testable import GatehousePostgres

/// The cases that need the test PostgreSQL server (scripts/test.sh starts it): interop tests,
/// which join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension LegacyMigrationTests {
    @Test func postgresFromSchema2() async throws {
        let url = try PostgresDriverTests.databaseURL()
        let driver = try PostgresDriver(url: url, logger: PostgresDriverTests.logger, options: PostgresDriverTests.isolated())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await driver.run() }
            defer { group.cancelAll() }
            try await driver.migrate(upTo: 2)
            try await Self.checkMigration(
                StoreFixture(driver: driver, isolated: true),
                insertOldRow: { row in
                    try await driver.rows(
                        "test",
                        """
                        INSERT INTO gatehouse_sessions (id_hash, subject, idp_session_id, provider, claims, sealed_tokens,
                            created_at, last_seen_at, idle_expires_at, absolute_expires_at, version)
                        VALUES (\(PostgresDriver.bytea(row.idHash.bytes)), \(row.subject), \(row.idpSessionID),
                            \(row.provider), \(PostgresDriver.bytea(row.legacyClaims ?? [])),
                            \(PostgresDriver.bytea(row.sealed)), \(row.createdAt), \(row.lastSeenAt),
                            \(row.idleExpiresAt), \(row.absoluteExpiresAt), \(row.version))
                        """)
                },
                migrate: { try await driver.migrate() })
            let versions = try await driver.rows("test", "SELECT version FROM gatehouse_schema_migrations ORDER BY version")
                .map { try $0.decode(Int32.self) }
            #expect(versions == PostgresDriver.migrations.map(\.version))
            let columns = try await driver.rows(
                "test",
                """
                SELECT column_name, is_nullable FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'gatehouse_sessions'
                """
            ).map { try $0.decode((String, String).self) }
            #expect(columns.contains { $0 == ("sealed_session", "NO") })
            #expect(columns.contains { $0 == ("legacy_claims", "YES") })
            #expect(!columns.contains { $0.0 == "claims" || $0.0 == "sealed_tokens" })
        }
    }
}
