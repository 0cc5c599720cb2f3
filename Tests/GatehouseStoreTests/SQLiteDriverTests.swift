import Foundation
import GRDB
@testable import GatehouseStore
import Testing
@testable import GatehouseSQLite

/// What only the SQLite driver has: the file, its permissions, WAL, and its migrations.
@Suite struct SQLiteDriverTests {
    @Test func createsTheFileForItsOwnerOnlyInWALMode() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.appendingPathComponent("new.sqlite").path
            let driver = try SQLiteDriver(path: path)
            try await driver.migrate()
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = try #require(attributes[.posixPermissions] as? NSNumber).intValue
            #expect(mode & 0o077 == 0, "mode \(String(mode, radix: 8))")
            let journal = try await driver.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(journal == "wal")
            for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                let sidecar = try FileManager.default.attributesOfItem(atPath: path + suffix)
                #expect(try #require(sidecar[.posixPermissions] as? NSNumber).intValue & 0o077 == 0, "\(suffix)")
            }
        }
    }

    @Test func migrationsAreIdempotentAndSurviveReopening() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.appendingPathComponent("reopen.sqlite").path
            let fixture = StoreFixture(driver: try SQLiteDriver(path: path), isolated: true)
            try await fixture.driver.migrate()
            try await fixture.driver.migrate()
            let (id, _) = try await fixture.store().create(
                identity: fixture.identity(), provider: "oidc", tokens: fixture.tokens())

            let reopened = try SQLiteDriver(path: path)
            try await reopened.migrate()
            #expect(try await fixture.store(driver: reopened).load(id) != nil)
            let applied = try await reopened.pool.read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
            #expect(applied == SQLiteDriver.migrator.migrations)
            #expect(applied.contains(SQLiteDriver.sealedIdentityMigration))
        }
    }

    @Test func anUnusablePathIsAConfigurationError() throws {
        let error = try #require(throws: StoreError.self) {
            try SQLiteDriver(path: "/nonexistent-directory-\(UUID().uuidString)/store.sqlite")
        }
        #expect(error == .invalidConfiguration)
        #expect(error.description.contains("cannot create the SQLite file"))
    }
}
