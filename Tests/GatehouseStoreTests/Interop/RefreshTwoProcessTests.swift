import Crypto
import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseTestSupport
import Testing

/// Two gateway processes on one PostgreSQL database find the same session expiring at the same
/// moment: 100 requests in each, one refresh grant in all. Part of the serialized
/// `RefreshTests` suite, because they count the same IdP's token requests.
extension RefreshTests {
    @Test func twoProcessesOnePostgresOneGrant() async throws {
        let url = try RefreshDatabase.url()
        let issuer = try DOT.refreshIssuer()
        try await RefreshDatabase.withFixture { fixture in
            let client = try DOT.client(issuer: issuer)
            let login = try await DOT.login(client)
            let store = SessionStore(
                driver: fixture.driver, keyRing: try KeyRing(base64Keys: [TestKeys.first]), clock: .system,
                logger: StoreFixture.quietLogger)
            let (_, session) = try await store.create(
                identity: login.identity, provider: "oidc", tokens: RefreshTests.expired(login.tokens))

            let other = try await RefreshStormProcess(arguments: [
                "--store", url, "--issuer", issuer, "--client-id", DOT.confidentialClient, "--session",
                session.idHash.hex, "--concurrency", "100",
            ])
            let before = try await DOT.settledRefreshTokenRequests()
            let refresher = TokenRefresher(store: store, client: client, leeway: RefreshTests.alwaysDue)
            other.go()
            let here = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await refresher.freshSession(session).tokens.accessToken }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            let (there, status) = await other.outcomes()

            #expect(status == 0)
            #expect(here.count == 1, "one token in this process")
            let fingerprint = here.first.map { "token " + Self.fingerprint($0) }
            #expect(there == [fingerprint].compactMap { $0 }, "the other process got the same single token: \(there)")
            #expect(try await DOT.refreshTokenRequests(since: before) == 1, "exactly one refresh grant for 200 requests in two processes")
            let stored = try #require(try await store.load(hash: session.idHash, bypassCache: true))
            #expect(stored.version == session.version + 1)
        }
    }

    static func fingerprint(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
