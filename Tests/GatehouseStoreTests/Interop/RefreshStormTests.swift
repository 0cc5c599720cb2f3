import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseTestSupport
import Testing

/// Issue 14: a storm of requests over two gateway processes on one PostgreSQL, each request
/// reading the session as a gateway does, finds the relayed token expired — one refresh grant
/// in all, whatever the token's lifetime. With the fixed 60-second lead time, tokens of 5 or 40
/// seconds were due again the moment they were issued and every wave of requests refreshed
/// them once more (19–21 grants for 120 requests). Part of the serialized `RefreshTests`
/// suite: they count the same IdP's token requests.
extension RefreshTests {
    /// The gateway's leeway (`AuthSettings.refreshLeeway`).
    static let gatewayLeeway = 60
    /// Requests per process, one every `stagger` milliseconds.
    static let stormRequests = 60
    static let stagger = 10

    @Test(arguments: [5, 40, 75, 3600])
    func aStormOverTwoProcessesRefreshesOnceWhateverTheLifetime(lifetime: Int) async throws {
        let url = try RefreshDatabase.url()
        let issuer = try DOT.refreshIssuer()
        let clientID = lifetime == 3600 ? DOT.confidentialClient : "gatehouse-life-\(lifetime)"
        try await RefreshDatabase.withFixture { fixture in
            let client = try DOT.client(clientID, issuer: issuer)
            let login = try await DOT.login(client)
            let issued = try #require(login.tokens.issuedAt)
            let expires = try #require(login.tokens.expiresAt)
            try #require(abs(expires.timeIntervalSince(issued) - Double(lifetime)) < 2, "the IdP issues \(lifetime)-second tokens")
            let store = SessionStore(
                driver: fixture.driver, keyRing: try KeyRing(base64Keys: [TestKeys.first]), clock: .system,
                logger: StoreFixture.quietLogger)
            let (_, session) = try await store.create(
                identity: login.identity, provider: "oidc", tokens: Self.expired(login.tokens))

            let other = try await RefreshStormProcess(arguments: [
                "--store", url, "--issuer", issuer, "--client-id", clientID, "--session", session.idHash.hex,
                "--concurrency", "\(Self.stormRequests)", "--leeway", "\(Self.gatewayLeeway)", "--reload",
                "--stagger-ms", "\(Self.stagger)",
            ])
            let before = try await DOT.settledRefreshTokenRequests()
            let refresher = TokenRefresher(store: store, client: client, leeway: .seconds(Self.gatewayLeeway))
            other.go()
            // As gateway requests do: each reads the session, then asks for a fresh one.
            let here = try await withThrowingTaskGroup(of: String.self) { group in
                for number in 0..<Self.stormRequests {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(number * Self.stagger))
                        let current = try #require(try await store.load(hash: session.idHash, bypassCache: true))
                        return try await refresher.freshSession(current).tokens.accessToken
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            let (there, status) = await other.outcomes()

            #expect(status == 0)
            let grants = try await DOT.refreshTokenRequests(since: before)
            #expect(grants == 1, "\(lifetime)-second tokens: \(grants) refresh grants for \(2 * Self.stormRequests) requests")
            #expect(here.count == 1, "one token in this process")
            #expect(there == here.map { "token " + Self.fingerprint($0) }, "the other process used the same token: \(there)")
        }
    }
}
