import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing
@testable import GatehousePostgres

/// The cases that need the test PostgreSQL server (scripts/test.sh starts it): interop tests,
/// which join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension PostgresDeletionNoticeTests {
    @Test func deletionsByAnotherInstanceLeaveTheCacheAtOnce() async throws {
        let options = PostgresDriverTests.isolated()
        try await PostgresDriverTests.withDriver(options) { driverA in
            try await PostgresDriverTests.withDriver(options) { driverB in
                let keys = try KeyRing(base64Keys: [TestKeys.first])
                let a = SessionStore(driver: driverA, keyRing: keys, configuration: Self.configuration, logger: StoreFixture.quietLogger)
                let b = SessionStore(driver: driverB, keyRing: keys, configuration: Self.configuration, logger: StoreFixture.quietLogger)
                let (first, _) = try await a.create(identity: Self.identity("u1"), provider: "oidc", tokens: Self.tokens())
                let (second, _) = try await a.create(identity: Self.identity("u2"), provider: "oidc", tokens: Self.tokens())
                #expect(try await b.load(first) != nil)
                #expect(try await b.load(second) != nil)

                // Control: without the listener, B's cache keeps serving a session A deleted.
                #expect(try await a.delete(first.hash))
                #expect(try await b.load(first) != nil)

                let listener = Task { await b.runDeletionListener() }
                defer { listener.cancel() }
                // Starting to listen drops B's cache (deletions before it were not seen).
                #expect(try await Self.eventually { try await b.load(first) == nil })

                #expect(try await b.load(second) != nil)
                #expect(try await a.deleteAll(subject: "u2") == 1)
                #expect(try await Self.eventually { try await b.load(second) == nil }, "notice for one session")

                // A large deletion arrives as one "forget everything".
                var ids: [SessionID] = []
                for index in 0..<101 {
                    ids.append(try await a.create(identity: Self.identity("bulk-\(index)"), provider: "oidc", tokens: Self.tokens()).0)
                }
                #expect(try await b.load(ids[50]) != nil)
                #expect(try await a.deleteEverything() == 101)
                #expect(try await Self.eventually { try await b.load(ids[50]) == nil }, "notice for a large deletion")
            }
        }
    }
}
