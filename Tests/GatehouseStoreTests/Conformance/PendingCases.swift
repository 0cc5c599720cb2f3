import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

enum PendingCases {
    static func singleUse(_ f: StoreFixture) async throws {
        let store = try f.store()
        let pending = f.pending()
        try await store.savePending(pending, bindingValue: "binding-cookie", returnPath: "/after?x=1", provider: "google")
        let row = try #require(try await f.driver.takePending(SessionHash(of: pending.state), now: 0))
        #expect(!SessionCases.containsSubsequence(row.sealedVerifier, Array(pending.codeVerifier.utf8)))
        #expect(row.bindingHash == SessionHash(of: "binding-cookie"))
        try await f.driver.insertPending(row)

        let taken = try #require(try await store.consumePending(state: pending.state))
        #expect(taken.pending == pending)
        #expect(taken.returnPath == "/after?x=1")
        #expect(taken.provider == "google")
        #expect(taken.isBound(to: "binding-cookie"))
        #expect(!taken.isBound(to: "another-cookie"))
        #expect(taken.expiresAt == f.clock.now.addingTimeInterval(600))
        #expect(try await store.consumePending(state: pending.state) == nil, "single use")
        #expect(try await store.consumePending(state: "never-issued") == nil)
    }

    static func expires(_ f: StoreFixture) async throws {
        let store = try f.store()
        let fresh = f.pending()
        let stale = f.pending()
        try await store.savePending(fresh, bindingValue: "b", returnPath: "/", provider: "oidc")
        try await store.savePending(stale, bindingValue: "b", returnPath: "/", provider: "oidc")
        f.clock.advance(by: .seconds(599))
        #expect(try await store.consumePending(state: fresh.state) != nil)
        f.clock.advance(by: .seconds(1))
        #expect(try await store.consumePending(state: stale.state) == nil, "expired after 10 minutes")
    }

    static func concurrentConsumeOneWinner(_ f: StoreFixture) async throws {
        // Several instances over one driver, as several gateway processes would be.
        let stores = try (0..<4).map { _ in try f.store() }
        let pending = f.pending()
        try await stores[0].savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")
        let winners = try await withThrowingTaskGroup(of: Bool.self, returning: Int.self) { group in
            for index in 0..<100 {
                let store = stores[index % stores.count]
                group.addTask { try await store.consumePending(state: pending.state) != nil }
            }
            var winners = 0
            for try await won in group where won { winners += 1 }
            return winners
        }
        #expect(winners == 1)
    }
}
