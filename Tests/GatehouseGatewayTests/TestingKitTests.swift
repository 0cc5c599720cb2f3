import Foundation
import GatehouseDevIdP
import GatehouseGateway
import GatehouseTesting
import Logging
import Testing

/// GatehouseTesting as an app's test would use it: a development IdP in-process with chosen
/// users, and a sign-in driven over HTTP through the app's own login and callback routes (here
/// the gateway's), giving a signed-in browser's cookies.
@Suite("GatehouseTesting")
struct TestingKitTests {
    @Test func aTestSignsAliceInThroughTheAppsOwnRoutes() async throws {
        let port = try TestServer.freePort()
        let users = TestUser.defaults + [
            TestUser(username: "dana", password: "pw", email: "dana@example.com", groups: ["ops"])
        ]
        let client = RegisteredClient(
            id: "app", secret: "app-secret", redirectURIs: ["http://127.0.0.1:\(port)/oauth2/callback"])
        try await TestIdentityProvider.withRunning(users: users, clients: [client]) { idp in
            try await EchoUpstream.with { upstream in
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-kit-\(UUID())")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let configuration = try await GatewayConfiguration.load(environment: [
                    "GATEHOUSE_LISTEN": "127.0.0.1:\(port)", "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                    "GATEHOUSE_ISSUER": idp.issuer, "GATEHOUSE_CLIENT_ID": "app", "GATEHOUSE_CLIENT_SECRET": "app-secret",
                    "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream)",
                    "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                    "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(), "GATEHOUSE_COOKIE_SECURE": "false",
                ])
                var logger = Logger(label: "gatehouse.kit")
                logger.logLevel = .critical
                let gateway = try Gateway(configuration: configuration, logger: logger)
                try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                    let base = "http://127.0.0.1:\(port)"
                    let dana = try await idp.signIn(as: "dana", startingAt: base + "/oauth2/start?rd=/dashboard")
                    #expect(dana.callbackStatus == 302 && dana.location == base + "/dashboard", "\(dana)")
                    #expect(dana.cookies["gatehouse"] != nil)
                    let browser = GatewayBrowser(baseURL: base)
                    let reply = try await browser.send("GET", "/dashboard", headers: [("Cookie", dana.cookieHeader)])
                    #expect(reply.status == 200)
                    #expect(try reply.echo().value("X-Forwarded-User") == "dana")
                    #expect(try reply.echo().value("X-Forwarded-Groups") == "ops")

                    // Someone the provider does not know, and a login route that is no login route.
                    await #expect(throws: TestSignInError.self) {
                        _ = try await idp.signIn(as: "mallory", startingAt: base + "/oauth2/start")
                    }
                    await #expect(throws: TestSignInError.self) {
                        _ = try await idp.signIn(as: "alice", startingAt: base + "/healthz")
                    }
                }
            }
        }
    }
}
