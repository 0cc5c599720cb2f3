import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import GatehouseTestSupport
import Hummingbird
import Testing

/// `GatehouseHummingbird` in a plain Hummingbird app (no gateway): the routes, the session
/// middleware and the token refresh it triggers.
@Suite("Hummingbird integration")
struct LibraryTests {
    @Test func sessionMiddlewareRefreshesAnExpiringAccessToken() async throws {
        let issuer = try DOT.issuer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-lib-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let driver = try SQLiteDriver(path: directory.appendingPathComponent("s.db").path)
        try await driver.migrate()
        let store = SessionStore(driver: driver, keyRing: try KeyRing(base64Keys: [GatewayFixture.randomKey()]))
        let port = try TestServer.freePort()
        let base = "http://127.0.0.1:\(port)"
        let client = try OAuthClient(
            provider: .oidc(issuer: issuer),
            configuration: OAuthClient.Configuration(
                clientID: DOT.confidentialClient, authentication: .clientSecretBasic(DOT.secret),
                redirectURI: base + "/oauth2/callback", scopes: ["openid", "email", "profile", "groups"]))
        // A leeway longer than any token's life: every request refreshes.
        let auth = AuthService(
            client: client, store: store,
            settings: AuthSettings(publicURL: base, cookieSecure: false, refreshLeeway: .seconds(30 * 86400)))
        let router = Router(context: GatehouseRequestContext.self)
        router.add(middleware: SessionMiddleware(auth))
        OAuthRoutes<GatehouseRequestContext>(auth).register(on: router)
        router.group("me").add(middleware: LoginRequiredMiddleware(auth)).get { _, context in
            "\(context.session?.version ?? 0)"
        }
        try await TestServer.run({ onRunning in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
        }) { _ in
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
