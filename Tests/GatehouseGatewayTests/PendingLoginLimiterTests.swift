import Foundation
import GatehouseOAuth
import GatehouseStore
import Logging
import Synchronization
import Testing

@testable import GatehouseHummingbird

/// ``PendingLoginLimiter`` on a manual clock: expired logins stop counting and leave the
/// store when the count is read (purge at expiry), completed or given-up logins free their
/// slot at once, and client addresses group as documented.
@Suite struct PendingLoginLimiterTests {
    final class Clock: Sendable {
        private let current = Mutex(Date(timeIntervalSince1970: 1_000_000_000))
        var now: Date { current.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static func pending(_ clock: Clock) -> PendingAuthorization {
        PendingAuthorization(
            state: SessionID.generate().value, nonce: "n", codeVerifier: SessionID.generate().value,
            redirectURI: "https://a.example/oauth2/callback", createdAt: clock.now)
    }

    /// Starts `count` logins for `client` as `/oauth2/start` does; their limiter keys.
    static func start(
        _ count: Int, client: String?, store: SessionStore, limiter: PendingLoginLimiter, clock: Clock
    ) async throws -> [UInt64] {
        var keys: [UInt64] = []
        for _ in 0..<count {
            let pending = Self.pending(clock)
            try await store.savePending(pending, bindingValue: "b", returnPath: "/", provider: "oidc")
            let key = PendingLoginLimiter.key(stateHashPrefix: SessionHash(of: pending.state).bytes)
            limiter.started(key: key, client: client, expiresAt: clock.now.addingTimeInterval(600))
            keys.append(key)
        }
        return keys
    }

    @Test func expiredLoginsStopCountingAndArePurgedWhenTheCountIsRead() async throws {
        let clock = Clock()
        let store = SessionStore(
            driver: MemoryDriver(), keyRing: try KeyRing(base64Keys: [KeyRing.generateKey()]),
            clock: WallClock { clock.now })
        let limiter = PendingLoginLimiter(limits: PendingLoginLimits(maxPending: 5, maxPendingPerClient: 3))
        let logger = Logger(label: "test")
        await limiter.refreshIfDue(store: store, logger: logger)
        _ = try await Self.start(3, client: "a", store: store, limiter: limiter, clock: clock)
        #expect(limiter.admission(client: "a", now: clock.now) == .clientLimit)
        _ = try await Self.start(2, client: "b", store: store, limiter: limiter, clock: clock)
        #expect(limiter.admission(client: "c", now: clock.now) == .globalLimit)

        clock.advance(601)
        #expect(limiter.admission(client: "a", now: clock.now) == .globalLimit, "global: until the next count")
        await limiter.refreshIfDue(store: store, logger: logger)
        #expect(limiter.admission(client: "a", now: clock.now) == .admitted)
        #expect(try await store.purgeExpiredPending() == 0, "the count purged the expired logins")
    }

    @Test func anEndedLoginFreesItsSlotAtOnce() async throws {
        let clock = Clock()
        let store = SessionStore(
            driver: MemoryDriver(), keyRing: try KeyRing(base64Keys: [KeyRing.generateKey()]),
            clock: WallClock { clock.now })
        let limiter = PendingLoginLimiter(limits: PendingLoginLimits(maxPending: 3, maxPendingPerClient: 2))
        await limiter.refreshIfDue(store: store, logger: Logger(label: "test"))
        let keys = try await Self.start(2, client: "a", store: store, limiter: limiter, clock: clock)
        #expect(limiter.admission(client: "a", now: clock.now) == .clientLimit)
        limiter.ended(key: keys[0])
        #expect(limiter.admission(client: "a", now: clock.now) == .admitted)
        _ = try await Self.start(1, client: "b", store: store, limiter: limiter, clock: clock)
        #expect(limiter.admission(client: "c", now: clock.now) == .admitted, "2 of 3 after one ended")
        _ = try await Self.start(1, client: "c", store: store, limiter: limiter, clock: clock)
        #expect(limiter.admission(client: "d", now: clock.now) == .globalLimit)
    }

    @Test func clientAddressesGroupIPv6BySlash64() {
        #expect(ClientAddressKey.key(for: "203.0.113.9") == "203.0.113.9")
        #expect(ClientAddressKey.key(for: "::ffff:203.0.113.9") == "203.0.113.9")
        #expect(ClientAddressKey.key(for: "2001:db8:1:2::1") == "2001:db8:1:2::/64")
        #expect(ClientAddressKey.key(for: "[2001:DB8:1:2:ffff::1]") == "2001:db8:1:2::/64")
        #expect(ClientAddressKey.key(for: "fe80::1%eth0") == "fe80:0:0:0::/64")
        #expect(ClientAddressKey.key(for: "2001:db8:1:3::1") != ClientAddressKey.key(for: "2001:db8:1:2::1"))
        #expect(ClientAddressKey.key(for: "not-an-address") == nil)
    }
}
