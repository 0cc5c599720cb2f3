import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

enum SessionCases {
    static func createLoadUpdate(_ f: StoreFixture) async throws {
        let store = try f.store()
        let identity = f.identity(sid: "sid-\(UUID().uuidString)")
        let tokens = f.tokens()
        let (id, created) = try await store.create(identity: identity, provider: "oidc", tokens: tokens)
        let (otherID, _) = try await store.create(identity: identity, provider: "oidc", tokens: tokens)
        #expect(id != otherID, "every login gets a new id")
        #expect(created.idHash == id.hash)
        #expect(created.version == 1)

        // The driver holds the hash, lookup copies of the subject and sid, and the sealed
        // session: no clear claims, no clear token.
        let row = try #require(try await f.driver.session(id.hash))
        #expect(row.subject == identity.subject)
        #expect(row.idpSessionID == identity.sessionID)
        #expect(row.legacyClaims == nil)
        #expect(!containsSubsequence(row.sealed, Array(tokens.accessToken.utf8)))
        #expect(!containsSubsequence(row.sealed, Array((tokens.refreshToken ?? "-").utf8)))
        #expect(!containsSubsequence(row.sealed, Array((identity.email ?? "-").utf8)))
        #expect(!containsSubsequence(row.sealed, Array(identity.subject.utf8)))

        // A second instance has no cache: this reads the driver.
        let loaded = try #require(try await f.store().load(id))
        #expect(loaded.identity == identity)
        #expect(loaded.tokens == SessionTokens(tokens))
        #expect(loaded.tokens.hasRefreshToken && loaded.tokens.hasIDToken)
        let full = try #require(try await f.store().loadWithTokenSet(hash: id.hash))
        #expect(full.tokenSet == tokens, "refresh and ID tokens come back from the driver")
        #expect(full.session.version == created.version)
        #expect(loaded.provider == "oidc")
        #expect(loaded.version == created.version)
        #expect(loaded.createdAt == created.createdAt)
        #expect(loaded.absoluteExpiresAt == f.clock.now.addingTimeInterval(7 * 86400))
        #expect(loaded.idleExpiresAt == f.clock.now.addingTimeInterval(8 * 3600))

        let refreshed = f.tokens("refreshed")
        let updated = try #require(try await store.updateTokens(loaded, to: refreshed))
        #expect(updated.version == loaded.version + 1)
        #expect(updated.idHash == id.hash, "the id stays stable across refreshes")
        #expect(try await store.load(id)?.tokens == SessionTokens(refreshed), "the local cache follows the update")
        #expect(try await store.loadWithTokenSet(hash: id.hash)?.tokenSet == refreshed)
        let reloaded = try #require(try await f.store().load(id))
        #expect(reloaded.tokens == SessionTokens(refreshed))
        #expect(reloaded.version == updated.version)

        #expect(try await store.load(SessionID.generate()) == nil)
    }

    static func compareAndSwapConflict(_ f: StoreFixture) async throws {
        let store = try f.store()
        let (id, created) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let first = f.tokens("first")
        let second = f.tokens("second")
        #expect(try await store.updateTokens(created, to: first) != nil)
        #expect(try await store.updateTokens(created, to: second) == nil, "a stale version loses")
        #expect(try await f.store().load(id)?.tokens == SessionTokens(first))
        let current = try #require(try await store.load(hash: id.hash, bypassCache: true))
        #expect(try await store.updateTokens(current, to: second)?.tokens == SessionTokens(second))
        #expect(try await store.delete(id.hash))
        #expect(try await store.updateTokens(current, to: first) == nil, "a deleted session is not recreated")
    }

    static func duplicateInsertIsConflict(_ f: StoreFixture) async throws {
        let store = try f.store()
        let (id, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let row = try #require(try await f.driver.session(id.hash))
        await #expect(throws: StoreError.conflict) { try await f.driver.insertSession(row) }
        let pending = f.pending()
        try await store.savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")
        let pendingRow = try #require(try await f.driver.takePending(SessionHash(of: pending.state), now: 0))
        try await f.driver.insertPending(pendingRow)
        await #expect(throws: StoreError.conflict) { try await f.driver.insertPending(pendingRow) }
    }

    static func listAndCount(_ f: StoreFixture) async throws {
        let configuration = SessionStore.Configuration(idleTimeout: .seconds(3600))
        let store = try f.store(configuration: configuration)
        let subject = "list-\(UUID().uuidString)"
        var hashes: [SessionHash] = []
        for index in 0..<3 {
            let (id, _) = try await store.create(
                identity: f.identity(subject: subject), provider: "provider-\(index)", tokens: f.tokens())
            hashes.append(id.hash)
            f.clock.advance(by: .seconds(1))
        }
        let listed = try await store.list(limit: f.isolated ? 2 : 10_000).filter { $0.subject == subject }
        if f.isolated {
            #expect(listed.map(\.idHash) == [hashes[2], hashes[1]], "newest first, limited")
            #expect(try await store.activeCount() == 3)
        } else {
            #expect(listed.map(\.idHash) == hashes.reversed())
            #expect(try await store.activeCount() >= 3)
        }
        let newest = try #require(listed.first)
        #expect(newest.idHashPrefix == hashes[2].shortDescription)
        #expect(newest.idHashPrefix.count == 12)
        #expect(newest.email == "\(subject)@example.test")
        #expect(newest.provider == "provider-2")
        #expect(newest.createdAt == f.clock.now.addingTimeInterval(-1))
        f.clock.advance(by: .seconds(3601))
        if f.isolated { #expect(try await store.activeCount() == 0) }
    }

    static func containsSubsequence(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
