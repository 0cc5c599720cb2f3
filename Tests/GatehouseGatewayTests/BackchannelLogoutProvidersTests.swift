import Foundation
import GatehouseGateway
import GatehouseOAuth
import GatehouseStore
import Logging
import Testing

/// Back-channel logout with two providers (issue 11): a subject and an IdP session id are
/// unique only within their issuer, so a logout token ends the sessions of the provider whose
/// keys signed it, never another's with the same `sub` or `sid`.
@Suite("Back-channel logout with several providers")
struct BackchannelLogoutProvidersTests {
    @Test func aLogoutTokenEndsOnlyItsOwnProvidersSessions() async throws {
        try await SigningIdP.with { first in
            try await SigningIdP.with { second in
                try await EchoUpstream.with { upstream in
                    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-bcl-\(UUID())")
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    defer { try? FileManager.default.removeItem(at: directory) }
                    let file = directory.appendingPathComponent("gatehouse.yaml")
                    let client = "    client_id: \(SigningIdP.clientID)\n    client_secret: \(SigningIdP.clientSecret)\n"
                    try Data(
                        ("providers:\n  - id: first\n    issuer: \(first.issuer)\n" + client
                            + "  - id: second\n    issuer: \(second.issuer)\n" + client).utf8
                    ).write(to: file)
                    let port = try TestServer.freePort()
                    let configuration = try await GatewayConfiguration.load(
                        environment: [
                            "GATEHOUSE_LISTEN": "127.0.0.1:\(port)", "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                            "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream)",
                            "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                            "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
                        ], file: file.path)
                    var logger = Logger(label: "gatehouse.test")
                    logger.logLevel = .critical
                    let gateway = try Gateway(configuration: configuration, logger: logger)
                    try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                        let base = "http://127.0.0.1:\(port)"
                        func signedIn(_ provider: String, issuer: String) async throws -> GatewayBrowser {
                            let (id, _) = try await gateway.auth.store.create(
                                identity: Identity(issuer: issuer, subject: "u1", sessionID: "sid-1"), provider: provider,
                                tokens: TokenSet(accessToken: "at-\(UUID())", expiresAt: Date().addingTimeInterval(3600)))
                            let browser = GatewayBrowser(baseURL: base)
                            browser.cookies["__Host-gatehouse"] = id.value
                            return browser
                        }
                        func isSignedIn(_ browser: GatewayBrowser) async throws -> Bool {
                            try await browser.send("GET", "/x", headers: [("Accept", "application/json")]).status == 200
                        }
                        func logout(_ token: String) async throws -> Int {
                            try await GatewayBrowser(baseURL: base).send(
                                "POST", "/oauth2/backchannel-logout",
                                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "logout_token=" + token
                            ).status
                        }
                        let atFirst = try await signedIn("first", issuer: first.issuer)
                        let atSecond = try await signedIn("second", issuer: second.issuer)
                        #expect(try await isSignedIn(atFirst))
                        #expect(try await isSignedIn(atSecond))

                        // Second's key, first's issuer: no provider accepts it; nothing ends.
                        var forged = second.logoutClaims(sid: "sid-1", sub: "u1")
                        forged["iss"] = .string(first.issuer)
                        #expect(try await logout(try second.token(forged)) == 400)
                        #expect(try await isSignedIn(atFirst))
                        #expect(try await isSignedIn(atSecond))

                        #expect(try await logout(try second.token(second.logoutClaims(sid: "sid-1", sub: "u1"))) == 200)
                        #expect(try await !isSignedIn(atSecond))
                        #expect(try await isSignedIn(atFirst), "the same sid at another provider is someone else's")

                        #expect(try await logout(try first.token(first.logoutClaims(sid: nil, sub: "u1"))) == 200)
                        #expect(try await !isSignedIn(atFirst))
                    }
                }
            }
        }
    }
}
