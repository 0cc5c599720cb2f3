import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

/// The cache holds the access token only; refresh and ID tokens come from the driver.
enum TokenCases {
    /// A cached session answers requests without the driver, but the refresh and ID tokens
    /// are read from the driver every time they are asked for: a change made behind the
    /// cache's back shows in them, not in the cached view.
    static func refreshAndIDTokensReadOnDemand(_ f: StoreFixture) async throws {
        let counting = CountingDriver(f.driver)
        let store = try f.store(configuration: .init(cacheTTL: .seconds(3600)), driver: counting)
        let tokens = f.tokens()
        let (id, created) = try await store.create(identity: f.identity(), provider: "oidc", tokens: tokens)
        #expect(created.tokens == SessionTokens(tokens))
        let cached = try #require(try await store.load(id))
        #expect(counting.count("session") == 0, "served from the cache")
        #expect(cached.tokens.hasRefreshToken)
        #expect(cached.tokens.hasIDToken)

        // Rotate the stored tokens behind the cache (as another instance would).
        let rotated = f.tokens("rotated")
        try await f.resealTokens(of: id.hash, with: rotated, store: store)
        #expect(try await store.load(id)?.tokens.accessToken == tokens.accessToken, "the cached view is unchanged")
        let full = try #require(try await store.loadWithTokenSet(hash: id.hash))
        #expect(counting.count("session") == 1, "the token set came from the driver")
        #expect(full.tokenSet.refreshToken == rotated.refreshToken)
        #expect(full.tokenSet.idToken == rotated.idToken)
        #expect(full.session.tokens == SessionTokens(rotated), "and the cache follows what was read")
        #expect(try await store.load(id)?.tokens == SessionTokens(rotated))

        // Without a refresh or ID token the view says so.
        let bare = TokenSet(accessToken: "bare-\(UUID().uuidString)", expiresAt: nil)
        let (bareID, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: bare)
        let bareSession = try #require(try await f.store().load(bareID))
        #expect(!bareSession.tokens.hasRefreshToken)
        #expect(!bareSession.tokens.hasIDToken)
        #expect(bareSession.tokens.expiresAt == nil)
        #expect(try await f.store().loadWithTokenSet(hash: bareID.hash)?.tokenSet == bare)
    }

    /// `end` deletes in one step and hands back every token for revocation and
    /// `id_token_hint`, even from a cached session and even after it expired.
    static func endReturnsTheTokenSet(_ f: StoreFixture) async throws {
        let store = try f.store(configuration: .init(idleTimeout: .seconds(600), cacheTTL: .seconds(3600)))
        let tokens = f.tokens()
        let (id, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: tokens)
        _ = try #require(try await store.load(id))
        let ended = try #require(try await store.end(id.hash))
        #expect(ended.tokenSet == tokens)
        #expect(ended.session.idHash == id.hash)
        #expect(try await store.load(id) == nil, "gone from the cache")
        #expect(try await f.driver.session(id.hash) == nil, "gone from the driver")
        #expect(try await store.end(id.hash) == nil, "once")

        let (idle, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: tokens)
        f.clock.advance(by: .seconds(601))
        #expect(try await store.end(idle.hash)?.tokenSet.refreshToken == tokens.refreshToken)
        #expect(try await f.driver.session(idle.hash) == nil)

        let (unreadable, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: tokens)
        try await f.replaceSealedTokens(of: unreadable.hash, with: [0x01, 0x02, 0x03])
        #expect(try await store.end(unreadable.hash) == nil, "nothing to revoke")
        #expect(try await f.driver.session(unreadable.hash) == nil, "but deleted all the same")
    }
}
