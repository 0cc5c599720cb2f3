import CryptoExtras
import Foundation
import GatehouseDevIdP
import GatehouseGateway
import GatehouseTestSupport
import Logging
import Testing

/// `GATEHOUSE_DPOP=true` (RFC 9449) in the gateway, against the development IdP, which binds
/// tokens to the proof's key and whose userinfo demands `Authorization: DPoP` with a fresh
/// proof (`ath`, its own nonce, single-use `jti`). The IdP is also the upstream: the gateway
/// relays `/userinfo` to it, so every relayed request is checked by a strict DPoP resource.
@Suite("Gateway DPoP")
struct GatewayDPoPTests {
    /// A gateway with DPoP on, the development IdP as provider and as upstream — unless
    /// `upstream` runs another: given the IdP's issuer, it starts its server and calls its
    /// second argument with the server's base URL while the server runs.
    static func withGateway(
        direct: Bool, accessTokenLifetime: Duration = .seconds(300), fapi2: Bool = false,
        upstream: ((_ issuer: String, _ serve: (String) async throws -> Void) async throws -> Void)? = nil,
        _ body: (GatewayBrowser, String) async throws -> Void
    ) async throws {
        let port = try TestServer.freePort()
        var idpConfiguration = IdentityProvider.Configuration()
        idpConfiguration.port = 0
        idpConfiguration.accessTokenLifetime = accessTokenLifetime
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-dpop-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var credentials = ["GATEHOUSE_CLIENT_SECRET": "dev-secret", "GATEHOUSE_DPOP": "true"]
        var client = RegisteredClient(
            id: "gatehouse-dev", secret: "dev-secret", redirectURIs: ["http://127.0.0.1:\(port)/oauth2/callback"])
        if fapi2 {
            // An RSA client key (it signs PS256 under the profile) and ES256 ID tokens.
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let keyFile = directory.appendingPathComponent("client.pem")
            try key.pemRepresentation.write(to: keyFile, atomically: true, encoding: .utf8)
            client = RegisteredClient(
                id: "gatehouse-dev", secret: nil, redirectURIs: client.redirectURIs, idTokenAlgorithm: .es256,
                assertionKeyPEM: key.publicKey.pemRepresentation)
            credentials = ["GATEHOUSE_CLIENT_KEY_FILE": keyFile.path, "GATEHOUSE_PROFILE": "fapi2"]
        }
        idpConfiguration.clients = [client]
        var idpLogger = Logger(label: "gatehouse.dev-idp")
        idpLogger.logLevel = .critical
        let idp = try IdentityProvider(configuration: idpConfiguration, logger: idpLogger)
        func serve(upstreamURL: String) async throws {
            let environment = credentials.merging([
                "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
                "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                "GATEHOUSE_ISSUER": idp.issuer,
                "GATEHOUSE_CLIENT_ID": "gatehouse-dev",
                "GATEHOUSE_UPSTREAM": upstreamURL,
                "GATEHOUSE_PASS_ACCESS_TOKEN": "true",
                "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
                "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
            ]) { $1 }
            let configuration = try await GatewayConfiguration.load(environment: environment)
            var logger = Logger(label: "gatehouse.dpop")
            logger.logLevel = .critical
            let gateway = try Gateway(configuration: configuration, logger: logger)
            try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                try await body(GatewayBrowser(baseURL: "http://127.0.0.1:\(port)"), idp.issuer)
            }
        }
        try await TestServer.run({ onRunning in idp.application(onServerRunning: onRunning) }) { _ in
            if let upstream {
                try await upstream(idp.issuer, serve(upstreamURL:))
            } else {
                try await serve(upstreamURL: idp.issuer)
            }
        }
    }

    /// Signs alice in; the authorization request names the session's key (`dpop_jkt`), or is
    /// pushed (then the browser carries only `client_id` and `request_uri`).
    static func logIn(_ browser: GatewayBrowser, pushed: Bool = false) async throws {
        let start = try await browser.send("GET", "/oauth2/start?rd=/userinfo", headers: [("Accept", "text/html")])
        let location = try #require(start.header("location").flatMap(URL.init(string:)))
        let query = URLComponents(url: location, resolvingAgainstBaseURL: false)?.queryItems ?? []
        if pushed {
            #expect(Set(query.map(\.name)) == ["client_id", "request_uri"], "\(location)")
        } else {
            let jkt = query.first { $0.name == "dpop_jkt" }?.value
            #expect(jkt?.count == 43, "the authorization request names the DPoP key: \(location)")
        }
        let callback = try await DOTBrowser().signIn(
            startingAt: location, username: "alice", password: "alice", callbackPrefix: browser.baseURL + "/oauth2/callback")
        let done = try await browser.send("GET", callback.absoluteString)
        #expect(done.status == 302, "\(done.body)")
    }

    /// The relayed token is accepted by a resource that refuses bearers and checks every proof
    /// (the first request learns the upstream's nonce and is retried once); each later request
    /// carries a new proof (a replayed `jti` would be refused).
    @Test(arguments: [true, false])
    func theGatewayRelaysABoundTokenWithAProofPerRequest(direct: Bool) async throws {
        try await Self.withGateway(direct: direct) { browser, _ in
            try await Self.logIn(browser)
            for _ in 0..<3 {
                let reply = try await browser.send("GET", "/userinfo", headers: [("Accept", "application/json")])
                #expect(reply.status == 200, "\(reply.status) \(reply.body)")
                #expect(reply.body.contains("\"sub\":\"alice\""), "\(reply.body)")
            }
            // A client's own proof never reaches the upstream in place of the gateway's.
            let forged = try await browser.send(
                "GET", "/userinfo", headers: [("Accept", "application/json"), ("DPoP", "forged.proof.value")])
            #expect(forged.status == 200, "\(forged.body)")
        }
    }

    /// A refresh keeps the key: once the 10-second access token has expired the gateway must
    /// refresh before relaying, with a proof of the same key (the IdP refuses any other for a
    /// bound refresh token), and the new token is relayed bound to it. (With shorter tokens a
    /// loaded machine can take longer than half the lifetime between the login and the first
    /// request, and the upstream then sees the old token expire in flight.)
    @Test func aRefreshKeepsTheSessionsKey() async throws {
        try await Self.withGateway(direct: false, accessTokenLifetime: .seconds(10)) { browser, _ in
            try await Self.logIn(browser)
            let first = try await browser.send("GET", "/userinfo", headers: [("Accept", "application/json")])
            #expect(first.status == 200, "\(first.body)")
            try await Task.sleep(for: .seconds(11))
            let later = try await browser.send("GET", "/userinfo", headers: [("Accept", "application/json")])
            #expect(later.status == 200, "\(later.status) \(later.body)")
            #expect(later.body.contains("\"sub\":\"alice\""))
        }
    }

    /// `GATEHOUSE_PROFILE=fapi2`: PAR, a PS256 client assertion from an RSA key, DPoP-bound
    /// tokens relayed with proofs, ES256 ID tokens, the RFC 9207 `iss` — a whole login.
    @Test func aFAPI2GatewaySignsInAndRelaysBoundTokens() async throws {
        try await Self.withGateway(direct: true, fapi2: true) { browser, _ in
            try await Self.logIn(browser, pushed: true)
            let reply = try await browser.send("GET", "/userinfo", headers: [("Accept", "application/json")])
            #expect(reply.status == 200, "\(reply.status) \(reply.body)")
            #expect(reply.body.contains("\"sub\":\"alice\""))
        }
    }
}
