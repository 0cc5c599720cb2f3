import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

enum ExpiryCases {
    static func slidingIdleExpiry(_ f: StoreFixture) async throws {
        let configuration = SessionStore.Configuration(idleTimeout: .seconds(3600), touchInterval: .seconds(60))
        let store = try f.store(configuration: configuration)
        let start = f.clock.now
        let (id, created) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        #expect(created.idleExpiresAt == start.addingTimeInterval(3600))

        f.clock.advance(by: .seconds(50 * 60))
        let touched = try #require(try await store.load(id))
        #expect(touched.idleExpiresAt == start.addingTimeInterval(50 * 60 + 3600))
        #expect(touched.lastSeenAt == start.addingTimeInterval(50 * 60))

        // Past the first idle deadline: alive because it slid, and the slide reached the driver.
        f.clock.advance(by: .seconds(50 * 60))
        #expect(try await f.store(configuration: configuration).load(id) != nil)
        #expect(try await store.load(id) != nil)

        f.clock.advance(by: .seconds(3601))
        #expect(try await store.load(id) == nil)
        #expect(try await f.driver.session(id.hash) == nil, "an expired session is deleted on load")
    }

    static func throttledTouch(_ f: StoreFixture) async throws {
        let counting = CountingDriver(f.driver)
        let store = try f.store(
            configuration: .init(touchInterval: .seconds(60), cacheTTL: .seconds(5)), driver: counting)
        let (id, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        #expect(try await store.load(id) != nil)
        f.clock.advance(by: .seconds(30))
        #expect(try await store.load(id) != nil)
        #expect(counting.count("touchSession") == 0, "no write within the touch interval")

        f.clock.advance(by: .seconds(31))
        #expect(try await store.load(id) != nil)
        #expect(counting.count("touchSession") == 1)
        for _ in 0..<5 { #expect(try await store.load(id) != nil) }
        f.clock.advance(by: .seconds(30))
        #expect(try await store.load(id) != nil)
        #expect(counting.count("touchSession") == 1)

        // Many requests at once when a touch is due: one write.
        f.clock.advance(by: .seconds(31))
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { try await store.load(id) != nil } }
            for try await found in group { #expect(found) }
        }
        #expect(counting.count("touchSession") == 2)
        #expect(try await f.driver.session(id.hash)?.lastSeenAt == f.clock.now.storeMilliseconds)

        // Without a cache the stored last-seen time alone throttles.
        let uncached = try f.store(configuration: .init(touchInterval: .seconds(60), cacheTTL: .zero), driver: counting)
        f.clock.advance(by: .seconds(59))
        for _ in 0..<3 { #expect(try await uncached.load(id) != nil) }
        #expect(counting.count("touchSession") == 2)
        f.clock.advance(by: .seconds(1))
        for _ in 0..<3 { #expect(try await uncached.load(id) != nil) }
        #expect(counting.count("touchSession") == 3)
    }

    static func absoluteExpiryCappedByRefreshToken(_ f: StoreFixture) async throws {
        let configuration = SessionStore.Configuration(maxAge: .seconds(3 * 3600), touchInterval: .seconds(60))
        let store = try f.store(configuration: configuration)
        let start = f.clock.now

        let (id, created) = try await store.create(
            identity: f.identity(), provider: "oidc", tokens: f.tokens(raw: ["refresh_expires_in": .number(1800)]))
        #expect(created.absoluteExpiresAt == start.addingTimeInterval(1800))
        #expect(created.idleExpiresAt == start.addingTimeInterval(1800), "idle never past absolute")

        let (_, github) = try await store.create(
            identity: f.identity(), provider: "github",
            tokens: f.tokens(raw: ["refresh_token_expires_in": .string("3600")]))
        #expect(github.absoluteExpiresAt == start.addingTimeInterval(3600))
        let (_, offline) = try await store.create(
            identity: f.identity(), provider: "oidc", tokens: f.tokens(raw: ["refresh_expires_in": .number(0)]))
        #expect(offline.absoluteExpiresAt == start.addingTimeInterval(3 * 3600), "0 means no stated expiry")

        // A refresh stating a new lifetime moves the deadline, never past the maximum age.
        f.clock.advance(by: .seconds(20 * 60))
        let loaded = try #require(try await store.load(id))
        let slid = try #require(
            try await store.updateTokens(loaded, to: f.tokens(raw: ["refresh_expires_in": .number(1800)])))
        #expect(slid.absoluteExpiresAt == start.addingTimeInterval(50 * 60))
        let capped = try #require(
            try await store.updateTokens(slid, to: f.tokens(raw: ["refresh_expires_in": .number(86400)])))
        #expect(capped.absoluteExpiresAt == start.addingTimeInterval(3 * 3600))
        let shortened = try #require(
            try await store.updateTokens(capped, to: f.tokens(raw: ["refresh_expires_in": .number(600)])))
        #expect(shortened.absoluteExpiresAt == start.addingTimeInterval(30 * 60))
        let unchanged = try #require(try await store.updateTokens(shortened, to: f.tokens()))
        #expect(unchanged.absoluteExpiresAt == shortened.absoluteExpiresAt)

        // Kept active, it still ends when the refresh token does.
        f.clock.advance(by: .seconds(9 * 60))
        #expect(try await store.load(id) != nil)
        f.clock.advance(by: .seconds(60))
        #expect(try await store.load(id) == nil)
        #expect(try await f.driver.session(id.hash) == nil)
    }

    static func purgeInBatches(_ f: StoreFixture) async throws {
        let configuration = SessionStore.Configuration(idleTimeout: .seconds(3600))
        let store = try f.store(configuration: configuration)
        var expired: [SessionHash] = []
        for _ in 0..<7 {
            expired.append(try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens()).0.hash)
        }
        let oldPending = [f.pending(), f.pending()]
        for pending in oldPending {
            try await store.savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")
        }
        f.clock.advance(by: .seconds(2 * 3600))
        let (liveID, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let livePending = f.pending()
        try await store.savePending(livePending, bindingValue: "b", returnPath: "/", provider: "oidc")

        var batches: [Int] = []
        while batches.count < 1000 {
            let purged = try await store.purgeExpired(batchSize: 3)
            batches.append(purged)
            if purged < 3 { break }
        }
        #expect(batches.allSatisfy { $0 <= 3 }, "\(batches)")
        if f.isolated { #expect(batches == [3, 3, 3, 0]) } else { #expect(batches.reduce(0, +) >= 9) }
        for hash in expired { #expect(try await f.driver.session(hash) == nil) }
        for pending in oldPending {
            #expect(try await f.driver.takePending(SessionHash(of: pending.state), now: 0) == nil)
        }
        #expect(try await store.load(liveID) != nil)
        #expect(try await store.consumePending(state: livePending.state) != nil)
    }
}
