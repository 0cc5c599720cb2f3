import Foundation
import GatehouseGateway
import GatehouseOAuth
import GatehouseStore
import Logging

/// A gateway configured for a ``SigningIdP`` (SQLite in a temporary directory), in front of an
/// ``EchoUpstream``. Sessions are made directly in its store, with a chosen `sub` and `sid`.
struct SigningGatewayFixture: Sendable {
    let baseURL: String
    let idp: SigningIdP
    let gateway: Gateway

    func browser() -> GatewayBrowser { GatewayBrowser(baseURL: baseURL) }

    /// A browser signed in to a new session of `subject` in IdP session `sid`.
    func signedIn(subject: String, sid: String?, groups: [String] = []) async throws -> GatewayBrowser {
        let (id, _) = try await gateway.auth.store.create(
            identity: Identity(
                issuer: idp.issuer, subject: subject, email: "\(subject)@example.com", groups: groups, sessionID: sid),
            provider: "default", tokens: TokenSet(accessToken: "at-\(UUID())", expiresAt: Date().addingTimeInterval(3600)))
        let browser = browser()
        browser.cookies["__Host-gatehouse"] = id.value
        return browser
    }

    /// POSTs `logout_token=token` (form-encoded) to the back-channel logout endpoint.
    func backchannelLogout(_ token: String) async throws -> GatewayBrowser.Reply {
        try await browser().send(
            "POST", "/oauth2/backchannel-logout", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: "logout_token=" + token)
    }

    static func with(
        environment extra: [String: String] = [:], _ body: (SigningGatewayFixture) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-signing-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await SigningIdP.with { idp in
            try await EchoUpstream.with { upstreamPort in
                let port = try TestServer.freePort()
                var environment = [
                    "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
                    "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                    "GATEHOUSE_ISSUER": idp.issuer,
                    "GATEHOUSE_CLIENT_ID": SigningIdP.clientID,
                    "GATEHOUSE_CLIENT_SECRET": SigningIdP.clientSecret,
                    "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)",
                    "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                    "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
                ]
                environment.merge(extra) { $1 }
                let configuration = try await GatewayConfiguration.load(environment: environment)
                var logger = Logger(label: "gatehouse.test")
                logger.logLevel = .warning
                let gateway = try Gateway(configuration: configuration, logger: logger)
                try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                    try await body(SigningGatewayFixture(baseURL: "http://127.0.0.1:\(port)", idp: idp, gateway: gateway))
                }
            }
        }
    }
}
