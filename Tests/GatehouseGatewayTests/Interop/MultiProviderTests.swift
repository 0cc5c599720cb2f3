import Foundation
import GatehouseDevIdP
import GatehouseGateway
import GatehouseTestSupport
import Logging
import Testing

/// Three identity providers behind one gateway (issue 11): django-oauth-toolkit at
/// `GATEHOUSE_TEST_IDP_ISSUER` (corp: alice, bob), a second instance with other people at
/// `GATEHOUSE_TEST_IDP_PARTNER_ISSUER` (partner: carol, erin) — whose subjects are the same
/// strings as corp's, so only the provider tells the sessions apart — and the development IdP
/// (dev: its alice and bob). The chooser, a login through each, route `providers:`, and the
/// mix-up defence with partner playing attacker.
@Suite("Several providers", .serialized)
struct MultiProviderTests {
    static func partnerIssuer() throws -> String { try DOT.partnerIssuer() }

    static func yaml(upstream: Int, devIssuer: String) throws -> String {
        """
        providers:
          - id: corp
            name: Corporate SSO
            issuer: \(try DOT.issuer())
            client_id: \(DOT.confidentialClient)
            client_secret: \(DOT.secret)
            scopes: openid email profile groups
          - id: partner
            name: Partner login
            issuer: \(try partnerIssuer())
            client_id: \(DOT.confidentialClient)
            client_secret: \(DOT.secret)
            scopes: [openid, email, profile, groups]
            extra_auth_params: {ui_locales: en}
          - id: dev
            name: Development IdP
            issuer: \(devIssuer)
            client_id: gatehouse-dev
            client_secret: dev-secret
        routes:
          - name: corp-only
            match: {path_prefix: /corp}
            upstream: http://127.0.0.1:\(upstream)
            providers: [corp]
          - name: service
            match: {path_prefix: /service}
            upstream: http://127.0.0.1:\(upstream)
            token: {type: client_credentials, scopes: [email]}
          - name: notoken
            match: {path_prefix: /notoken}
            upstream: http://127.0.0.1:\(upstream)
            token: none
          - name: org
            match: {path_prefix: /org42}
            upstream: http://127.0.0.1:\(upstream)
            allow: {claims: {"org.id": "42", groups: staff}}
          - name: api
            match: {path_prefix: /api}
            upstream: http://127.0.0.1:\(upstream)
            require_csrf_header: true
          - name: shared
            match: {path_prefix: /}
            upstream: http://127.0.0.1:\(upstream)
            pass_access_token: true
        """
    }

    /// A gateway with both providers in front of an echo upstream.
    static func withGateway(
        direct: Bool = true, environment extra: [String: String] = [:], _ body: (String) async throws -> Void
    ) async throws {
        let port = try TestServer.freePort()
        var idpConfiguration = IdentityProvider.Configuration()
        idpConfiguration.port = 0
        idpConfiguration.clients = [
            RegisteredClient(
                id: "gatehouse-dev", secret: "dev-secret", redirectURIs: ["http://127.0.0.1:\(port)/oauth2/callback/dev"])
        ]
        var idpLogger = Logger(label: "gatehouse.dev-idp")
        idpLogger.logLevel = .critical
        let idp = try IdentityProvider(configuration: idpConfiguration, logger: idpLogger)
        try await TestServer.run({ onRunning in idp.application(onServerRunning: onRunning) }) { _ in
            try await EchoUpstream.with { upstream in
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-providers-\(UUID())")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let file = directory.appendingPathComponent("gatehouse.yaml")
                try Data(try yaml(upstream: upstream, devIssuer: idp.issuer).utf8).write(to: file)
                let environment = extra.merging([
                    "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
                    "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                    "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                    "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
                    "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
                ]) { $1 }
                let configuration = try await GatewayConfiguration.load(environment: environment, file: file.path)
                var logger = Logger(label: "gatehouse.providers")
                logger.logLevel = .critical
                let gateway = try Gateway(configuration: configuration, logger: logger)
                try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                    try await body("http://127.0.0.1:\(port)")
                }
            }
        }
    }

    /// Starts a login for `returnPath` (following the chooser's link for `provider` when the
    /// path allows several), signs in at that IdP and visits the callback.
    static func logIn(
        _ browser: GatewayBrowser, provider: String, user: String, password: String, returnPath: String = "/x"
    ) async throws -> GatewayBrowser.Reply {
        var start = try await browser.send("GET", "/oauth2/start?rd=" + returnPath, headers: [("Accept", "text/html")])
        if start.status == 200 {
            let link = try #require(Self.links(in: start.body).first { $0.contains("provider=\(provider)") })
            start = try await browser.send("GET", link)
        }
        let location = try #require(start.header("location").flatMap(URL.init(string:)))
        let callback = try await DOTBrowser().signIn(
            startingAt: location, username: user, password: password,
            callbackPrefix: browser.baseURL + "/oauth2/callback/" + provider)
        return try await browser.send("GET", callback.absoluteString)
    }

    /// The `href`s of a page (HTML-unescaped `&amp;`).
    static func links(in html: String) -> [String] {
        html.components(separatedBy: "href=\"").dropFirst().compactMap { $0.split(separator: "\"").first }
            .map { $0.replacingOccurrences(of: "&amp;", with: "&") }
    }

    @Test func theChooserOffersBothAndEachProviderSignsItsOwnPeopleIn() async throws {
        try await Self.withGateway { base in
            let page = try await GatewayBrowser(baseURL: base).send("GET", "/oauth2/start?rd=/x")
            #expect(page.status == 200)
            #expect(page.header("content-security-policy")?.contains("default-src 'none'") == true)
            #expect(page.body.contains("Corporate SSO") && page.body.contains("Partner login"))
            #expect(page.body.contains("Development IdP"))
            #expect(!page.body.contains("<script"))
            #expect(
                Self.links(in: page.body).sorted() == [
                    "/oauth2/start?provider=corp&rd=%2Fx", "/oauth2/start?provider=dev&rd=%2Fx",
                    "/oauth2/start?provider=partner&rd=%2Fx",
                ])

            for (provider, user, password, email) in [
                ("corp", "alice", "alice-password-1", "alice@example.com"),
                ("partner", "carol", "carol-password-1", "carol@partner.example"),
                ("dev", "alice", "alice", "alice@example.com"),
            ] {
                let browser = GatewayBrowser(baseURL: base)
                let callback = try await Self.logIn(browser, provider: provider, user: user, password: password)
                #expect(callback.status == 302 && callback.header("location") == "/x", "\(provider): \(callback.body)")
                let info = try await browser.send("GET", "/oauth2/userinfo")
                let body = try JSONSerialization.jsonObject(with: Data(info.body.utf8)) as? [String: Any]
                #expect(body?["provider"] as? String == provider)
                #expect(body?["email"] as? String == email)
                let echo = try await browser.send("GET", "/x").echo()
                let forwarded = Dictionary(echo.headers.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { a, _ in a })
                #expect(forwarded["x-forwarded-provider"] == provider)
                #expect(forwarded["x-forwarded-email"] == email)
            }
        }
    }

    @Test func aRouteWithOneProviderStartsThereAndBadNamesAreRefused() async throws {
        try await Self.withGateway { base in
            let browser = GatewayBrowser(baseURL: base)
            let straight = try await browser.send("GET", "/oauth2/start?rd=/corp/page")
            #expect(straight.status == 302)
            #expect(straight.header("location")?.hasPrefix(try DOT.issuer() + "/authorize/") == true)
            #expect(straight.header("location")?.contains("oauth2%2Fcallback%2Fcorp") == true)
            let partner = try await browser.send("GET", "/oauth2/start?provider=partner&rd=/x")
            #expect(partner.header("location")?.hasPrefix(try Self.partnerIssuer() + "/authorize/") == true)
            #expect(partner.header("location")?.contains("ui_locales=en") == true)

            let unknown = try await browser.send("GET", "/oauth2/start?provider=nope&rd=/x")
            #expect(unknown.status == 400 && unknown.body.contains("unknown_provider"))
            let notHere = try await browser.send("GET", "/oauth2/start?provider=partner&rd=/corp/x")
            #expect(notHere.status == 400 && notHere.body.contains("provider_not_allowed"))
            let prompt = try await browser.send("GET", "/oauth2/start?provider=corp&prompt=login&rd=/x")
            #expect(prompt.status == 400 && prompt.body.contains("invalid_prompt"))
            let silent = try await browser.send("GET", "/oauth2/start?provider=corp&prompt=none&rd=/x")
            #expect(silent.status == 302 && silent.header("location")?.contains("prompt=none") == true)
        }
    }

    /// carol signed in with partner; the corp-only route sends a navigation to corp's login
    /// and answers anything else `401` with that login URL — on both proxy paths, twice (the
    /// second time the session is settled in the cache, where the direct path decides).
    @Test(arguments: [true, false])
    func aRouteRefusesSessionsOfOtherProviders(direct: Bool) async throws {
        try await Self.withGateway(direct: direct) { base in
            let browser = GatewayBrowser(baseURL: base)
            _ = try await Self.logIn(browser, provider: "partner", user: "carol", password: "carol-password-1")
            for _ in 0..<2 {
                let navigation = try await browser.send("GET", "/corp/x?a=1", headers: [("Sec-Fetch-Mode", "navigate")])
                #expect(navigation.status == 302)
                #expect(navigation.header("location") == "/oauth2/start?provider=corp&rd=%2Fcorp%2Fx%3Fa%3D1")
                let api = try await browser.send("GET", "/corp/x", headers: [("Accept", "application/json")])
                #expect(api.status == 401)
                #expect(api.body.contains("\"error\":\"provider_not_allowed\""))
                #expect(api.body.contains("provider=corp"))
                let shared = try await browser.send("GET", "/shared")
                #expect(shared.status == 200)
            }
            let alice = GatewayBrowser(baseURL: base)
            _ = try await Self.logIn(alice, provider: "corp", user: "alice", password: "alice-password-1", returnPath: "/corp/x")
            #expect(try await alice.send("GET", "/corp/x").status == 200)
        }
    }

    /// `token: client_credentials` relays the gateway's own token (one grant, cached), never
    /// the user's or a client's; `token: none` relays nothing of the gateway's — on both paths
    /// (a service-token route always takes the router).
    @Test(arguments: [true, false])
    func routesRelayTheTokenTheyName(direct: Bool) async throws {
        try await Self.withGateway(direct: direct) { base in
            let browser = GatewayBrowser(baseURL: base)
            _ = try await Self.logIn(browser, provider: "corp", user: "alice", password: "alice-password-1")
            func authorization(_ path: String, _ headers: [(String, String)] = []) async throws -> [String] {
                let echo = try await browser.send("GET", path, headers: headers).echo()
                return echo.headers.filter { $0[0].lowercased() == "authorization" }.map { $0[1] }
            }
            let user = try await authorization("/x")
            #expect(user.count == 1 && user[0].hasPrefix("Bearer "))
            let service = try await authorization("/service/a")
            #expect(service.count == 1 && service[0].hasPrefix("Bearer ") && service != user, "\(service) vs \(user)")
            #expect(try await authorization("/service/b", [("Authorization", "Bearer forged")]) == service)
            #expect(try await authorization("/notoken") == [])
            #expect(try await authorization("/notoken", [("Authorization", "Bearer client-own")]) == ["Bearer client-own"])
            // Anonymous: the service route still needs a login (token: is what is relayed,
            // not who may come in).
            let anonymous = try await GatewayBrowser(baseURL: base).send("GET", "/service/a", headers: [("Accept", "application/json")])
            #expect(anonymous.status == 401)
        }
    }

    /// `require_csrf_header`: a route only a front end's own scripts call refuses requests
    /// without `X-CSRF: 1` (a cross-site page cannot add it without a preflight), on both
    /// paths and whether the session is settled or not; `GATEHOUSE_CSRF_HEADER` makes
    /// `/oauth2/userinfo` require its header too.
    @Test(arguments: [true, false])
    func csrfHeaderRoutesNeedTheHeader(direct: Bool) async throws {
        try await Self.withGateway(direct: direct, environment: ["GATEHOUSE_CSRF_HEADER": "X-Requested-By"]) { base in
            let browser = GatewayBrowser(baseURL: base)
            _ = try await Self.logIn(browser, provider: "corp", user: "alice", password: "alice-password-1")
            for _ in 0..<2 {
                let missing = try await browser.send("GET", "/api/items")
                #expect(missing.status == 403 && missing.body.contains("missing_csrf_header"))
                #expect(try await browser.send("GET", "/api/items", headers: [("X-Requested-By", "0")]).status == 403)
                #expect(try await browser.send("POST", "/api/items", headers: [("X-Requested-By", "1")]).status == 200)
                #expect(try await browser.send("GET", "/x").status == 200, "other routes need no header")
            }
            #expect(try await browser.send("GET", "/oauth2/userinfo").status == 403)
            #expect(try await browser.send("GET", "/oauth2/userinfo", headers: [("X-Requested-By", "1")]).status == 200)
        }
    }

    /// `allow: {claims: …}`: a nested claim (`org.id`, a number in the ID token) and an array
    /// claim (`groups`) must both match; alice (org 42, staff) passes, bob (org 7) and carol
    /// (org 99, another provider) get `403 claim_not_allowed` — on both paths, settled or not.
    @Test(arguments: [true, false])
    func claimRulesReadDottedPathsAndArrays(direct: Bool) async throws {
        try await Self.withGateway(direct: direct) { base in
            for (provider, user, allowed) in [("corp", "alice", true), ("corp", "bob", false), ("partner", "carol", false)] {
                let browser = GatewayBrowser(baseURL: base)
                _ = try await Self.logIn(browser, provider: provider, user: user, password: "\(user)-password-1")
                for _ in 0..<2 {
                    let answer = try await browser.send("GET", "/org42/report", headers: [("Accept", "application/json")])
                    #expect(answer.status == (allowed ? 200 : 403), "\(user): \(answer.body)")
                    if !allowed { #expect(answer.body.contains("claim_not_allowed")) }
                }
            }
        }
    }

    /// Mix-up (RFC 9700 §4.4) with partner as the attacker: the user starts a login with
    /// partner, whose authorization endpoint sends the browser on to corp with the same state
    /// and PKCE challenge. Corp's code comes back on corp's callback — refused, since the login
    /// is bound to partner — or, when the attacker asks corp for partner's redirect URI, on
    /// partner's callback with corp's RFC 9207 `iss` — refused before any token request.
    /// Neither leaves a session.
    @Test func theMixUpAttackIsRefused() async throws {
        try await Self.withGateway { base in
            for onPartnersCallback in [false, true] {
                let browser = GatewayBrowser(baseURL: base)
                let start = try await browser.send("GET", "/oauth2/start?provider=partner&rd=/x")
                let partnerURL = try #require(start.header("location").flatMap { URLComponents(string: $0) })
                #expect(partnerURL.string?.hasPrefix(try Self.partnerIssuer()) == true)
                // The attacker's redirect: the same request, to corp.
                var corpURL = try #require(URLComponents(string: try DOT.issuer() + "/authorize/"))
                corpURL.queryItems = partnerURL.queryItems?.map { item in
                    guard item.name == "redirect_uri", !onPartnersCallback else { return item }
                    return URLQueryItem(name: item.name, value: base + "/oauth2/callback/corp")
                }
                let callbackPath = onPartnersCallback ? "/oauth2/callback/partner" : "/oauth2/callback/corp"
                // Corp, an RFC 9207 server, names itself in `iss`.
                let callback = try await DOTBrowser().signIn(
                    startingAt: try #require(corpURL.url), username: "alice", password: "alice-password-1",
                    callbackPrefix: base + callbackPath)
                #expect(callback.query?.contains("iss=") == true)
                let answer = try await browser.send("GET", callback.absoluteString)
                #expect(answer.status == 400)
                #expect(answer.body.contains(onPartnersCallback ? "iss_mismatch" : "provider_mismatch"), "\(answer.body)")
                #expect(browser.cookies.keys.allSatisfy { !$0.hasSuffix("gatehouse") })
                let info = try await browser.send("GET", "/oauth2/userinfo")
                #expect(info.status == 401)
            }
        }
    }
}
