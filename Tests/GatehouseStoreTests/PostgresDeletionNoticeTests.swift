import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

/// Two "instances" (stores over separate connection pools) on one PostgreSQL schema: a
/// deletion by one reaches the other's cache through LISTEN/NOTIFY, long before the cache
/// lifetime (10 minutes here) would.
@Suite struct PostgresDeletionNoticeTests {
    static let configuration = SessionStore.Configuration(cacheTTL: .seconds(600))

    static func identity(_ subject: String) -> Identity {
        Identity(
            issuer: "https://idp.example.test", subject: subject, email: nil, emailVerified: nil, name: nil,
            preferredUsername: nil, groups: [], sessionID: nil)
    }

    static func tokens() -> TokenSet {
        TokenSet(accessToken: "at-\(UUID())", tokenType: "Bearer", expiresAt: Date().addingTimeInterval(3600))
    }

    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

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

    @Test func noticePayloads() throws {
        let hash = SessionID.generate().hash
        #expect(PostgresDriver.deletion(fromPayload: hash.hex) == .session(hash))
        #expect(PostgresDriver.deletion(fromPayload: hash.hex.uppercased()) == .session(hash))
        #expect(PostgresDriver.deletion(fromPayload: "*") == .many)
        for junk in ["", "xyz", String(hash.hex.dropLast()), "+" + String(hash.hex.dropFirst()), hash.hex + "00"] {
            #expect(PostgresDriver.deletion(fromPayload: junk) == .many, "\(junk)")
        }
    }
}
