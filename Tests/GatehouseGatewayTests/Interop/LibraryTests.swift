import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import GatehouseTestSupport
import Hummingbird
import Synchronization
import Testing
@testable import GatehouseSQLite

/// `GatehouseHummingbird` in a plain Hummingbird app (no gateway): the routes, the session
/// middleware and the token refresh it triggers.
@Suite("Hummingbird integration")
struct LibraryTests {
    /// A migrated SQLite store in a temporary directory, removed afterwards.
    static func withStore(clock: WallClock = .system, _ body: (SessionStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-lib-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let driver = try SQLiteDriver(path: directory.appendingPathComponent("s.db").path)
        try await driver.migrate()
        try await body(SessionStore(driver: driver, keyRing: try KeyRing(base64Keys: [GatewayFixture.randomKey()]), clock: clock))
    }

    /// `router` served on 127.0.0.1:`port` while `body` runs.
    static func serve(_ router: Router<GatehouseRequestContext>, port: Int, _ body: () async throws -> Void) async throws {
        try await TestServer.run({ onRunning in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
        }) { _ in try await body() }
    }

    @Test func sessionMiddlewareRefreshesAnExpiringAccessToken() async throws {
        let issuer = try DOT.issuer()
        // The store's clock runs an hour ahead: every access token it sees has expired (a
        // refresh is due at most half way through a token's life), so every request refreshes.
        try await Self.withStore(clock: WallClock { Date().addingTimeInterval(3600) }) { store in
            let port = try TestServer.freePort()
            let base = "http://127.0.0.1:\(port)"
            let client = try OAuthClient(
                provider: .oidc(issuer: issuer),
                configuration: OAuthClient.Configuration(
                    clientID: DOT.confidentialClient, authentication: .clientSecretBasic(DOT.secret),
                    redirectURI: base + "/oauth2/callback", scopes: ["openid", "email", "profile", "groups"]))
            let auth = AuthService(
                client: client, store: store, settings: AuthSettings(publicURL: base, cookieSecure: false))
            let router = Router(context: GatehouseRequestContext.self)
            router.add(middleware: SessionMiddleware(auth))
            OAuthRoutes<GatehouseRequestContext>(auth).register(on: router)
            router.group("me").add(middleware: LoginRequiredMiddleware(auth)).get { _, context in
                "\(context.session?.version ?? 0)"
            }
            try await Self.serve(router, port: port) {
                let browser = GatewayBrowser(baseURL: base)
                let unauthenticated = try await browser.send("GET", "/me", headers: [("Sec-Fetch-Mode", "navigate")])
                #expect(unauthenticated.status == 302)
                let login = try await browser.logIn(returnPath: "/me")
                #expect(login.status == 302)
                #expect(login.header("location") == "/me")
                #expect(browser.cookies["gatehouse"] != nil)
                let first = try await browser.send("GET", "/me")
                let second = try await browser.send("GET", "/me")
                let firstVersion = try #require(Int(first.body))
                let secondVersion = try #require(Int(second.body))
                #expect(firstVersion >= 2)
                #expect(secondVersion > firstVersion)
            }
        }
    }

    /// A wall clock the test moves forward.
    final class ShiftedClock: Sendable {
        private let offset = Mutex(0.0)
        var wallClock: WallClock { WallClock { [self] in Date().addingTimeInterval(offset.withLock { $0 }) } }
        func advance(by seconds: Double) { offset.withLock { $0 += seconds } }
    }

    /// DESIGN §4: a failed refresh leaves the old tokens in place and tells the client. The
    /// session's access token expires (the store's clock moves 2 h on) while the IdP cannot be
    /// reached (a client whose issuer is on port 1, where nothing listens): where the token is needed the request
    /// gets `503 token_refresh_failed` — a page for a navigation, JSON with `Retry-After`
    /// otherwise — and where it is not, it goes on. The session survives: a service that can
    /// reach the IdP then refreshes it.
    @Test func failedRefreshAnswers503WhereTheTokenIsNeededAndKeepsTheSession() async throws {
        let issuer = try DOT.issuer()
        let clock = ShiftedClock()
        try await Self.withStore(clock: clock.wallClock) { store in
            let port = try TestServer.freePort()
            let base = "http://127.0.0.1:\(port)"
            func client(issuer: String) throws -> OAuthClient {
                var configuration = OAuthClient.Configuration(
                    clientID: DOT.confidentialClient, authentication: .clientSecretBasic(DOT.secret),
                    redirectURI: base + "/oauth2/callback", scopes: ["openid", "email", "profile"])
                configuration.timeout = .seconds(3)
                return try OAuthClient(provider: .oidc(issuer: issuer), configuration: configuration)
            }
            func timed(_ body: () async throws -> GatewayBrowser.Reply) async throws -> (GatewayBrowser.Reply, Duration) {
                let started = ContinuousClock.now
                let reply = try await body()
                return (reply, ContinuousClock.now - started)
            }
            let unreachable = "http://127.0.0.1:1/o"  // nothing listens: connections are refused
            let reachable = AuthService(
                client: try client(issuer: issuer), store: store, settings: AuthSettings(publicURL: base, cookieSecure: false))
            let tokenRequired = AuthService(
                client: try client(issuer: unreachable), store: store,
                settings: AuthSettings(publicURL: base, cookieSecure: false, accessTokenRequired: true))
            let tokenOptional = AuthService(
                client: try client(issuer: unreachable), store: store,
                settings: AuthSettings(publicURL: base, cookieSecure: false))
            let router = Router(context: GatehouseRequestContext.self)
            OAuthRoutes<GatehouseRequestContext>(reachable).register(on: router)
            for (path, auth) in [("needs-token", tokenRequired), ("session-only", tokenOptional), ("reachable", reachable)] {
                router.group(RouterPath(path)).add(middleware: SessionMiddleware(auth)).add(middleware: LoginRequiredMiddleware(auth))
                    .get { _, context in "version \(context.session?.version ?? 0)" }
            }
            try await Self.serve(router, port: port) {
                let browser = GatewayBrowser(baseURL: base)
                #expect(try await browser.logIn(returnPath: "/needs-token").status == 302)
                #expect(try await browser.send("GET", "/needs-token").body == "version 1")

                clock.advance(by: 2 * 3600)
                // The first attempt waits for the IdP (3 s timeout); for the next 15 s the failure is
                // remembered and answered at once.
                let (api, firstWait) = try await timed {
                    try await browser.send("GET", "/needs-token", headers: [("Accept", "application/json")])
                }
                #expect(firstWait >= .seconds(2))
                #expect(api.status == 503)
                #expect(api.header("retry-after") == "5")
                #expect(api.header("content-type") == "application/json")
                #expect(api.body.contains(#""error":"token_refresh_failed""#), "\(api.body)")
                let (page, secondWait) = try await timed {
                    try await browser.send("GET", "/needs-token", headers: [("Sec-Fetch-Mode", "navigate")])
                }
                #expect(secondWait < .seconds(2), "a remembered failure must not wait for the IdP again")
                #expect(page.status == 503)
                #expect(page.header("content-type")?.hasPrefix("text/html") == true)
                #expect(page.body.contains("token_refresh_failed"))
                #expect(browser.cookies["gatehouse"] != nil)

                #expect(try await browser.send("GET", "/session-only").body == "version 1")
                let (again, againWait) = try await timed { try await browser.send("GET", "/session-only") }
                #expect(again.body == "version 1")
                #expect(againWait < .seconds(2))
                // The stored tokens were kept: with the IdP reachable, the refresh succeeds.
                #expect(try await browser.send("GET", "/reachable").body == "version 2")
            }
        }
    }
}
