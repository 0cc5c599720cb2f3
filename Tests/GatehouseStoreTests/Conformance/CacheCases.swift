import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

enum CacheCases {
    static func revocationAcrossInstancesWithinTTL(_ f: StoreFixture) async throws {
        let configuration = SessionStore.Configuration(cacheTTL: .seconds(5))
        let a = try f.store(configuration: configuration)
        let b = try f.store(configuration: configuration)
        let (id, _) = try await a.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        #expect(try await a.load(id) != nil)

        #expect(try await b.delete(id.hash))
        #expect(try await b.load(id) == nil, "immediately on the instance that revoked")
        // Instance A may serve its cached copy, but never beyond the TTL.
        f.clock.advance(by: .seconds(4))
        #expect(try await a.load(id) != nil, "served from A's cache within the TTL")
        f.clock.advance(by: .seconds(1))
        #expect(try await a.load(id) == nil, "gone on A once the TTL has passed")

        // The same bound holds for a token update made elsewhere.
        let (other, _) = try await a.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let seen = try #require(try await b.load(other))
        let refreshed = f.tokens("refreshed-on-b")
        #expect(try await b.updateTokens(seen, to: refreshed) != nil)
        f.clock.advance(by: .seconds(5))
        #expect(try await a.load(other)?.tokens == SessionTokens(refreshed))
    }

    static func localRevocationImmediate(_ f: StoreFixture) async throws {
        let store = try f.store(configuration: .init(cacheTTL: .seconds(3600)))
        let subject = "local-\(UUID().uuidString)"
        let sid = "sid-\(UUID().uuidString)"
        let (one, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let (bySubject, _) = try await store.create(identity: f.identity(subject: subject), provider: "oidc", tokens: f.tokens())
        let (bySID, _) = try await store.create(identity: f.identity(sid: sid), provider: "oidc", tokens: f.tokens())
        for id in [one, bySubject, bySID] { #expect(try await store.load(id) != nil) }

        #expect(try await store.delete(one.hash))
        #expect(try await store.load(one) == nil)
        #expect(try await store.deleteAll(subject: subject) == 1)
        #expect(try await store.load(bySubject) == nil)
        #expect(try await store.deleteAll(idpSessionID: sid) == 1)
        #expect(try await store.load(bySID) == nil)
    }
}
