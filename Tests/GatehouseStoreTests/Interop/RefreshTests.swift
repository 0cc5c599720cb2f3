import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseTestSupport
import Testing
@testable import GatehousePostgres

/// "Refresh, once": against the real django-oauth-toolkit with refresh-token rotation (its own
/// instance, so its access log counts only these grants), for every backend.
@Suite("Token refresh, exactly once", .serialized)
struct RefreshTests {
    /// A leeway beyond any token lifetime: the lead time is then half the token's lifetime,
    /// and the sessions here hold an expired token (``expired(_:)``), so every caller wants a
    /// refresh and only the single-flight and the lock can keep the grants to one.
    static let alwaysDue = Duration.seconds(1_000_000)

    /// `tokens` as if received one lifetime and a second ago: expired, its lifetime unchanged.
    static func expired(_ tokens: TokenSet, now: Date = Date()) -> TokenSet {
        var result = tokens
        let lifetime = tokens.expiresAt.map { expiresAt in tokens.issuedAt.map { expiresAt.timeIntervalSince($0) } ?? 3600 } ?? 3600
        result.expiresAt = now.addingTimeInterval(-1)
        result.issuedAt = now.addingTimeInterval(-1 - lifetime)
        return result
    }

    func client() throws -> OAuthClient {
        try DOT.client(issuer: try DOT.refreshIssuer())
    }

    /// Logs in, stores the session, and runs `body` with the store and the stored session.
    func withLoggedInSession(
        _ fixture: StoreFixture, _ body: (SessionStore, Session, TokenSet, OAuthClient) async throws -> Void
    ) async throws {
        let client = try client()
        let login = try await DOT.login(client)
        let store = SessionStore(
            driver: fixture.driver, keyRing: try KeyRing(base64Keys: [TestKeys.first]), clock: .system,
            logger: StoreFixture.quietLogger)
        let tokens = Self.expired(login.tokens)
        let (_, session) = try await store.create(identity: login.identity, provider: "oidc", tokens: tokens)
        try await body(store, session, tokens, client)
    }

    func twoHundredConcurrentRequests(_ fixture: StoreFixture) async throws {
        try await withLoggedInSession(fixture) { store, session, original, client in
            let refresher = TokenRefresher(store: store, client: client, leeway: Self.alwaysDue)
            let before = try await DOT.settledRefreshTokenRequests()
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await refresher.freshSession(session).tokens.accessToken }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(tokens.count == 200)
            #expect(Set(tokens).count == 1, "every request uses the one refreshed token")
            #expect(tokens.first != session.tokens.accessToken)
            #expect(try await DOT.refreshTokenRequests(since: before) == 1, "exactly one refresh grant reached the IdP")
            // The stored session carries the rotated tokens, one version on.
            // The refresh token never sat in the cache: the refresher read it from the driver.
            let stored = try #require(try await store.loadWithTokenSet(hash: session.idHash))
            #expect(stored.session.version == session.version + 1)
            #expect(stored.tokenSet.accessToken == tokens.first)
            #expect(stored.tokenSet.refreshToken != nil)
            #expect(stored.tokenSet.refreshToken != original.refreshToken)
            #expect(stored.tokenSet.idToken != nil)
            // And the IdP accepts it.
            _ = try await client.userInfo(accessToken: stored.tokenSet.accessToken, subject: session.identity.subject)
        }
    }

    @Test(arguments: LocalBackend.allCases)
    func twoHundredConcurrentRequestsOneGrant(_ backend: LocalBackend) async throws {
        try await backend.withFixture { try await twoHundredConcurrentRequests($0) }
    }

    @Test func twoHundredConcurrentRequestsOneGrantOnPostgres() async throws {
        try await RefreshDatabase.withFixture { try await twoHundredConcurrentRequests($0) }
    }

    @Test(arguments: LocalBackend.allCases)
    func refusedRefreshTokenEndsTheSession(_ backend: LocalBackend) async throws {
        try await backend.withFixture { fixture in
            try await withLoggedInSession(fixture) { store, session, original, client in
                try await client.revoke(try #require(original.refreshToken), hint: .refreshToken)
                let refresher = TokenRefresher(store: store, client: client, leeway: Self.alwaysDue)
                do {
                    _ = try await refresher.freshSession(session)
                    Issue.record("a revoked refresh token must end the session")
                } catch RefreshError.sessionEnded {
                    #expect(try await store.load(hash: session.idHash, bypassCache: true) == nil)
                }
            }
        }
    }

    @Test func unreachableIdPKeepsTheOldTokens() async throws {
        try await LocalBackend.sqlite.withFixture { fixture in
            try await withLoggedInSession(fixture) { store, session, original, _ in
                // The same registration, but the token endpoint is a closed port.
                var configuration = OAuthClient.Configuration(
                    clientID: DOT.confidentialClient, authentication: .clientSecretBasic(DOT.secret),
                    redirectURI: DOT.redirectURI)
                configuration.timeout = .seconds(2)
                var metadata = try await client().metadata()
                metadata.tokenEndpoint = "http://127.0.0.1:9/o/token/"
                var provider = Provider.oidc(issuer: metadata.issuer)
                provider.metadataSource = .fixed(metadata)
                let broken = try OAuthClient(provider: provider, configuration: configuration)
                let refresher = TokenRefresher(store: store, client: broken, leeway: Self.alwaysDue)
                do {
                    _ = try await refresher.freshSession(session)
                    Issue.record("an unreachable IdP cannot refresh")
                } catch RefreshError.refreshFailed {
                    let stored = try #require(try await store.loadWithTokenSet(hash: session.idHash))
                    #expect(stored.session.version == session.version)
                    #expect(stored.tokenSet == original)
                }
            }
        }
    }
}

/// A PostgreSQL database of its own (`GATEHOUSE_TEST_POSTGRES_REFRESH_URL`, created by
/// scripts/test.sh), so the conformance suite's `deleteEverything` cannot reach these rows.
enum RefreshDatabase {
    static func url() throws -> String {
        try #require(
            ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_REFRESH_URL"],
            "GATEHOUSE_TEST_POSTGRES_REFRESH_URL is not set: run the tests with scripts/test.sh")
    }

    static func withFixture(_ body: (StoreFixture) async throws -> Void) async throws {
        try await PostgresDriver.withDriver(url: try url(), logger: StoreFixture.quietLogger) { driver in
            try await body(StoreFixture(driver: driver, isolated: false))
        }
    }
}
