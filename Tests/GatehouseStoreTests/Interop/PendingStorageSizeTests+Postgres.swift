import Foundation
import GRDB
import GatehouseOAuth
import PostgresNIO
import Testing
@testable import GatehouseStore
@testable import GatehousePostgres

/// The cases that need the test PostgreSQL server (scripts/test.sh starts it): interop tests,
/// which join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension PendingStorageSizeTests {
    @Test func postgresBytesPerPendingLogin() async throws {
        try await PostgresDriverTests.withDriver { driver in
            try await driver.migrate()
            let store = SessionStore(driver: driver, keyRing: try KeyRing(base64Keys: [TestKeys.first]))
            try await Self.fill(store, returnPath: Self.shortPath)
            try await driver.rows("vacuum", "VACUUM ANALYZE gatehouse_pending")
            let rows = try await driver.rows(
                "size", "SELECT pg_total_relation_size('gatehouse_pending')::bigint")
            let perLogin = Int(try #require(rows.first).decode(Int64.self)) / Self.count
            print("PostgreSQL: \(perLogin) bytes per pending login (table and indexes)")
            #expect(perLogin <= 480)
        }
    }
}
