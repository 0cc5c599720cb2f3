import AsyncHTTPClient
import Crypto
import Foundation
import GatehouseGateway
import GatehouseOAuth
import GatehouseTestSupport
import Logging
import NIOCore
import Testing

/// Logins against idpyoidc (`scripts/idpy/`), an OpenID Provider written by others, with PAR
/// and DPoP on: through the library over HTTP, and through the gateway. idpyoidc signs the
/// user in from `login_hint` without a form, so the front channel is one redirect.
///
/// Where idpyoidc departs from RFC 9449 (`scripts/idpy/README.md`), `knownDeviationsStayVisible`
/// pins the departure here and the development IdP's `DPoPTests` cover the rule.
@Suite("idpyoidc interop")
struct IdpyInteropTests {
    static func jkt(_ accessToken: String) -> String? {
        (JWTParts.claims(accessToken)?["cnf"] as? [String: Any])?["jkt"] as? String
    }

    static func query(_ url: URL) -> [String: String] {
        var fields: [String: String] = [:]
        for item in URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? [] { fields[item.name] = item.value }
        return fields
    }

    /// A whole login: authorization request, the provider's redirect, the exchange.
    static func logIn(
        _ client: OAuthClient, user: String = "alice", dpop: DPoPKey? = nil, refresh: Bool = true
    ) async throws -> LoginResult {
        var parameters = AuthorizationParameters()
        parameters.loginHint = user
        if refresh {
            // OpenID Connect Core §11: offline_access (a refresh token) with prompt=consent.
            parameters.scopes = ["openid", "email", "profile", "offline_access"]
            parameters.prompt = "consent"
        }
        parameters.dpopKeyThumbprint = dpop?.thumbprint
        let request = try await client.authorizationRequest(parameters)
        let callback = try await Idpy.callback(for: request.url)
        #expect(callback.absoluteString.hasPrefix(Idpy.redirectURI + "?"))
        let query = URLComponents(url: callback, resolvingAgainstBaseURL: false)?.percentEncodedQuery ?? ""
        return try await client.exchange(try CallbackParameters(query: Substring(query)), pending: request.pending, dpop: dpop)
    }

    @Test func parAndDPoPBindTheTokensToTheKey() async throws {
        let client = try Idpy.client()
        let key = DPoPKey()
        var parameters = AuthorizationParameters()
        parameters.dpopKeyThumbprint = key.thumbprint
        let request = try await client.authorizationRequest(parameters)
        // RFC 9126 §4: the browser carries the client and the pushed request's handle only.
        let front = Self.query(request.url)
        #expect(Set(front.keys) == ["client_id", "request_uri"])
        #expect(front["request_uri"]?.hasPrefix("urn:uuid:") == true)

        let result = try await Self.logIn(client, dpop: key)
        #expect(result.tokens.tokenType == "DPoP")
        #expect(Self.jkt(result.tokens.accessToken) == key.thumbprint)
        #expect(result.identity.email == "alice@example.com")
        #expect(result.identity.emailVerified == true)
        #expect(result.identity.name == "Alice Idpy")
        #expect(result.identity.issuer == (try Idpy.issuer()))
        #expect(result.tokens.refreshToken != nil)

        let subject = result.idToken?.claims.subject
        let refreshed = try await client.refresh(result.tokens, subject: subject, dpop: key)
        #expect(refreshed.tokenType == "DPoP")
        #expect(refreshed.accessToken != result.tokens.accessToken)
        #expect(Self.jkt(refreshed.accessToken) == key.thumbprint)

        // RFC 9449 §5 binds a confidential client's refresh token to its client authentication,
        // not to the key: idpyoidc lets another key refresh and binds the new access token to
        // that key (the development IdP, stricter, refuses it: DPoPTests).
        let other = DPoPKey()
        let rebound = try await client.refresh(refreshed, subject: subject, dpop: other)
        #expect(rebound.tokenType == "DPoP")
        #expect(Self.jkt(rebound.accessToken) == other.thumbprint)
    }

    @Test func loginHintChoosesTheUser() async throws {
        let result = try await Self.logIn(try Idpy.client(), user: "bob", refresh: false)
        #expect(result.identity.email == "bob@example.com")
        #expect(result.identity.name == "Bob Idpy")
        #expect(result.tokens.tokenType.lowercased() == "bearer")
        #expect(result.tokens.refreshToken == nil)
    }

    @Test(arguments: ["es256", "rs256"])
    func privateKeyJWT(_ keyName: String) async throws {
        let key = try ClientSigningKey(pem: try Idpy.clientKeyPEM(keyName))
        #expect(key.algorithm == keyName.uppercased())
        let client = try Idpy.client(Idpy.jwtClient, authentication: .privateKeyJWT(key: key))
        let dpop = DPoPKey()
        let result = try await Self.logIn(client, dpop: dpop)
        #expect(result.identity.email == "alice@example.com")
        #expect(Self.jkt(result.tokens.accessToken) == dpop.thumbprint)
        let refreshed = try await client.refresh(result.tokens, subject: result.idToken?.claims.subject, dpop: dpop)
        #expect(refreshed.tokenType == "DPoP")
    }

    /// `require_pushed_authorization_requests` is client metadata (RFC 9126 §6) that only the
    /// provider and the client's operator know: the provider's discovery document does not
    /// say it (its §5 member is for all clients), so `.auto` sends the request through the
    /// browser and the provider refuses it; `.always` is how such a client is configured.
    @Test func aClientThatMustPushIsRefusedWithoutPAR() async throws {
        let metadata = try await Idpy.client(Idpy.parClient).metadata()
        #expect(metadata.requirePushedAuthorizationRequests != true)
        #expect(metadata.pushedAuthorizationRequestEndpoint == (try Idpy.issuer()) + "/par")

        let auto = try Idpy.client(Idpy.parClient, pushedAuthorization: .auto)
        let direct = try await auto.authorizationRequest()
        #expect(Self.query(direct.url)["request_uri"] == nil)
        let refusal = try await Idpy.authorize(direct.url)
        #expect(refusal.status == .badRequest)
        let body = String(buffer: try await refusal.body.collect(upTo: 1 << 16))
        #expect(body.contains("invalid_request") && body.contains("pushed authorization"))

        let pushed = try await Self.logIn(try Idpy.client(Idpy.parClient, pushedAuthorization: .always))
        #expect(pushed.identity.email == "alice@example.com")
    }

    /// A pushed request is single use and belongs to the client that pushed it (RFC 9126 §4).
    @Test func aPushedRequestIsSingleUseAndOnlyForItsClient() async throws {
        let client = try Idpy.client()
        let request = try await client.authorizationRequest()
        let requestURI = try #require(Self.query(request.url)["request_uri"])
        var other = URLComponents(string: try Idpy.issuer() + "/authorization")
        other?.queryItems = [.init(name: "client_id", value: Idpy.parClient), .init(name: "request_uri", value: requestURI)]
        let stolen = try await Idpy.authorize(try #require(other?.url))
        #expect(stolen.status == .badRequest)

        _ = try await Idpy.callback(for: request.url)
        let replay = try await Idpy.authorize(request.url)
        #expect(replay.status == .badRequest)
    }

    /// idpyoidc's departures from RFC 9449, asserted so that a release that fixes one shows up
    /// here (then move the rule to the passing tests). Each rule is covered against the
    /// development IdP in `DPoPTests`.
    @Test func knownDeviationsStayVisible() async throws {
        let client = try Idpy.client()
        let key = DPoPKey()

        // §10: a code requested with dpop_jkt must be redeemed with that key. idpyoidc ignores
        // dpop_jkt and binds to whichever key redeems it.
        var parameters = AuthorizationParameters()
        parameters.dpopKeyThumbprint = DPoPKey().thumbprint
        let request = try await client.authorizationRequest(parameters)
        let callback = try await Idpy.callback(for: request.url)
        let query = URLComponents(url: callback, resolvingAgainstBaseURL: false)?.percentEncodedQuery ?? ""
        let tokens = try await client.exchange(
            try CallbackParameters(query: Substring(query)), pending: request.pending, dpop: key
        ).tokens
        #expect(Self.jkt(tokens.accessToken) == key.thumbprint)

        // §4.2: ath is the base64url SHA-256 of the token; idpyoidc compares hex, so a
        // conforming proof is refused at its userinfo endpoint ...
        let userinfo = try Idpy.issuer() + "/userinfo"
        let conforming = try await client.dpopRequest(HTTPClientRequest(url: userinfo), accessToken: tokens.accessToken, key: key)
        #expect(conforming.status == .badRequest)
        let refusal = String(buffer: try await conforming.body.collect(upTo: 1 << 16))
        #expect(refusal.contains("'ath' in DPoP does not match"))
        // ... and (§8, §9) it never asks for a DPoP nonce: no DPoP-Nonce header, anywhere.
        #expect(conforming.headers.first(name: "dpop-nonce") == nil)

        // The bound token as a bearer token is refused (§7.2; scripts/idpy/op.py adds this).
        var bearer = HTTPClientRequest(url: userinfo)
        bearer.headers.add(name: "Authorization", value: "Bearer " + tokens.accessToken)
        let downgraded = try await DOTBrowser.http.execute(bearer, timeout: .seconds(10))
        #expect(downgraded.status == .unauthorized)
    }

    // MARK: - gatehouse serve

    /// The gateway (in process, SQLite, echo upstream) for idpyoidc's `gatehouse-idpy` client.
    static func withGateway(environment extra: [String: String], _ body: (GatewayBrowser) async throws -> Void) async throws {
        let issuer = try Idpy.issuer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-idpy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await EchoUpstream.with { upstream in
            let port = try TestServer.freePort()
            var environment = [
                "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
                "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                "GATEHOUSE_ISSUER": issuer,
                "GATEHOUSE_CLIENT_ID": Idpy.secretClient,
                "GATEHOUSE_CLIENT_SECRET": Idpy.secret,
                "GATEHOUSE_SCOPES": "openid email profile",
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream)",
                "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
                "GATEHOUSE_PASS_ACCESS_TOKEN": "true",
            ]
            environment.merge(extra) { $1 }
            let configuration = try await GatewayConfiguration.load(environment: environment)
            var logger = Logger(label: "gatehouse.idpy")
            logger.logLevel = .critical
            let gateway = try Gateway(configuration: configuration, logger: logger)
            try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                try await body(GatewayBrowser(baseURL: "http://127.0.0.1:\(port)"))
            }
        }
    }

    /// `/oauth2/start` → idpyoidc (pushed request) → callback → the upstream with the identity.
    static func gatewayLogIn(_ browser: GatewayBrowser) async throws -> EchoUpstream.Echo {
        let start = try await browser.send("GET", "/oauth2/start?rd=%2Fhello")
        #expect(start.status == 302)
        let location = try #require(start.header("location").flatMap(URL.init(string:)))
        #expect(Set(Self.query(location).keys) == ["client_id", "request_uri"])
        let callback = try await Idpy.callback(for: location)
        #expect(callback.absoluteString.hasPrefix(browser.baseURL + "/oauth2/callback?"))
        let landed = try await browser.send("GET", callback.absoluteString)
        #expect(landed.status == 302)
        #expect(landed.header("location") == "/hello")
        let reply = try await browser.send("GET", "/hello")
        #expect(reply.status == 200)
        return try reply.echo()
    }

    @Test func gatewayLoginWithPAR() async throws {
        try await Self.withGateway(environment: ["GATEHOUSE_PAR": "always"]) { browser in
            let echo = try await Self.gatewayLogIn(browser)
            #expect(echo.value("X-Forwarded-Email") == "alice@example.com")
            let authorization = try #require(echo.value("Authorization"))
            #expect(authorization.hasPrefix("Bearer "))
            #expect(Self.jkt(String(authorization.dropFirst("Bearer ".count))) == nil)
        }
    }

    /// `GATEHOUSE_DPOP=true`: the session's tokens are bound to its own key, and the upstream
    /// gets them as `Authorization: DPoP` with a proof of that key for its own URL, carrying
    /// the token's hash (`ath`).
    @Test func gatewayLoginWithPARAndDPoP() async throws {
        try await Self.withGateway(environment: ["GATEHOUSE_PAR": "always", "GATEHOUSE_DPOP": "true"]) { browser in
            let echo = try await Self.gatewayLogIn(browser)
            #expect(echo.value("X-Forwarded-Email") == "alice@example.com")
            let authorization = try #require(echo.value("Authorization"))
            #expect(authorization.hasPrefix("DPoP "), "\(authorization.prefix(12))")
            let token = try #require(authorization.split(separator: " ").last.map(String.init))
            #expect(Self.jkt(token) != nil)
            let proof = try #require(echo.value("DPoP"), "the upstream gets a proof")
            let claims = try #require(JWTParts.claims(proof))
            #expect(claims["htm"] as? String == "GET")
            #expect((claims["htu"] as? String)?.hasSuffix("/hello") == true)
            let hash = Data(SHA256.hash(data: Data(token.utf8))).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(claims["ath"] as? String == hash)
        }
    }
}
