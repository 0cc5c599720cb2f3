import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

@Suite struct SessionCacheTests {
    let start = Date(timeIntervalSince1970: 1_000_000_000)

    func session(_ name: String, version: Int64 = 1) -> Session {
        Session(
            idHash: SessionHash(of: name), identity: Identity(issuer: "https://i", subject: name), provider: "p",
            tokens: SessionTokens(accessToken: "a", hasRefreshToken: true, hasIDToken: false), createdAt: start, lastSeenAt: start,
            idleExpiresAt: start.addingTimeInterval(3600), absoluteExpiresAt: start.addingTimeInterval(7200),
            version: version)
    }

    @Test func servesOnlyWithinTTL() {
        let cache = SessionCache(capacity: 10, ttl: .seconds(5))
        cache.put(session("a"), readAt: start)
        #expect(cache.get(SessionHash(of: "a"), now: start.addingTimeInterval(4.999)) != nil)
        #expect(cache.get(SessionHash(of: "a"), now: start.addingTimeInterval(5)) == nil)
        #expect(cache.count == 0, "a stale entry is dropped")
    }

    @Test func staysWithinCapacityDroppingTheOldest() {
        let cache = SessionCache(capacity: 100, ttl: .seconds(5))
        for index in 0..<10_000 { cache.put(session("s\(index)"), readAt: start) }
        #expect(cache.count == 100)
        #expect(cache.get(SessionHash(of: "s9999"), now: start) != nil)
        #expect(cache.get(SessionHash(of: "s0"), now: start) == nil)
    }

    @Test func churnKeepsMemoryBounded() {
        let cache = SessionCache(capacity: 1000, ttl: .seconds(5))
        for index in 0..<50_000 {
            cache.put(session("s\(index)"), readAt: start)
            cache.invalidate(SessionHash(of: "s\(index)"))
        }
        #expect(cache.count == 0)
        cache.put(session("last"), readAt: start)
        #expect(cache.get(SessionHash(of: "last"), now: start) != nil)
    }

    @Test func aReadThatRacedWithAnInvalidationIsNotCached() {
        let cache = SessionCache(capacity: 10, ttl: .seconds(5))
        let ticket = cache.readTicket()
        cache.invalidate(SessionHash(of: "a"))
        cache.put(session("a"), readAt: start, ticket: ticket)
        #expect(cache.get(SessionHash(of: "a"), now: start) == nil)
        cache.put(session("a"), readAt: start, ticket: cache.readTicket())
        #expect(cache.get(SessionHash(of: "a"), now: start) != nil)
    }

    @Test func neverReplacesANewerVersion() {
        let cache = SessionCache(capacity: 10, ttl: .seconds(5))
        cache.put(session("a", version: 3), readAt: start)
        cache.put(session("a", version: 2), readAt: start)
        #expect(cache.get(SessionHash(of: "a"), now: start)?.version == 3)
    }

    @Test func zeroCapacityOrTTLDisablesIt() {
        for cache in [SessionCache(capacity: 0, ttl: .seconds(5)), SessionCache(capacity: 10, ttl: .zero)] {
            cache.put(session("a"), readAt: start)
            #expect(cache.get(SessionHash(of: "a"), now: start) == nil)
        }
    }
}
