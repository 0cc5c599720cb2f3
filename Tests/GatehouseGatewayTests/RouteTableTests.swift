import Foundation
import Testing

@testable import GatehouseGateway

/// The route table's decision (issue 11): first match on host and whole path segments, `405`
/// without falling through, and paths that read as different routes refused; and the YAML
/// `routes:` list, strict about what it accepts.
@Suite("Route table")
struct RouteTableTests {
    static let table = RouteTable(routes: [
        Route(name: "admin", host: "app.example", pathPrefix: ["admin"], methods: ["GET", "POST"], upstream: "http://b"),
        Route(name: "public", pathPrefix: ["public"], upstream: "http://b", skipAuth: true),
        Route(name: "api", pathPrefix: ["api", "v1"], methods: ["GET"], upstream: "http://a"),
        Route(name: "app", host: "app.example", upstream: "http://a"),
    ])

    func select(_ path: String, method: String = "GET", host: String? = "app.example") -> RouteTable.Selection {
        Self.table.select(authority: host.map { Substring($0) }, path: Substring(path), method: method)
    }

    @Test func firstMatchOnHostAndWholeSegments() {
        #expect(select("/admin") == .route(0))
        #expect(select("/admin/") == .route(0))
        #expect(select("/admin/x/y", method: "POST") == .route(0))
        #expect(select("/admin/x", method: "HEAD") == .route(0), "GET admits HEAD")
        #expect(select("/administrator") == .route(3), "a prefix is whole segments")
        #expect(select("/public/a", host: "other.example") == .route(1), "a route without host takes any host")
        #expect(select("/api/v1/items") == .route(2))
        #expect(select("/api/v2/items") == .route(3))
        #expect(select("/x", host: "APP.example:8443") == .route(3), "host: any case, any port")
        #expect(select("/x", host: "other.example") == .noRoute)
        #expect(select("/x", host: nil) == .noRoute)
        #expect(select("/admin/x", host: "other.example") == .noRoute)
    }

    @Test func wrongMethodIsRefusedWithoutFallingThrough() {
        #expect(select("/admin/x", method: "DELETE") == .methodNotAllowed(0))
        #expect(select("/api/v1/items", method: "POST") == .methodNotAllowed(2), "never the app route behind it")
        #expect(Self.table.routes[0].allowField == "GET, HEAD, POST")
    }

    /// A path an upstream could read as another route's (decoded letters, `%2F`, `;params`)
    /// is refused rather than guessed.
    @Test func pathsThatReadAsAnotherRouteAreAmbiguous() {
        for path in [
            "/admin%2Fx", "/%61dmin/x", "/admin;x/y", "/public%2Fa", "/api/v1%2Fitems", "/api%2Fv1/items", "/ap%69/v1",
            "/admin%3Bx",
        ] {
            #expect(select(path) == .ambiguous, "\(path)")
        }
        // Escapes that change no route's choice are fine.
        #expect(select("/admin/a%20b") == .route(0))
        #expect(select("/files/a%2Fb") == .route(3))
        #expect(select("/public/a;b") == .route(1))
        #expect(select("/admin//x") == .route(0))
    }

    @Test func oneRouteForEverythingNeedsNoMatching() {
        let single = RouteTable(routes: [Route(name: "default", upstream: "http://a")])
        #expect(single.select(authority: nil, path: "/%61dmin%2F;x", method: "BREW") == .route(0))
    }

    @Test func hostsWithPorts() {
        #expect(HostMatch("app.example:8443").matches(RequestHost("app.example:8443")))
        #expect(!HostMatch("app.example:8443").matches(RequestHost("app.example")))
        #expect(HostMatch("[::1]").matches(RequestHost("[::1]:4180")))
        #expect(!HostMatch("[::1]:4180").matches(RequestHost("[::1]")))
        #expect(!HostMatch("app.example").matches(RequestHost("app.example.evil")))
    }

    // MARK: The YAML list

    static let environment = [
        "GATEHOUSE_ISSUER": "https://idp.example",
        "GATEHOUSE_CLIENT_ID": "app",
        "GATEHOUSE_CLIENT_SECRET": "s3cret",
        "GATEHOUSE_PUBLIC_URL": "https://app.example",
        "GATEHOUSE_ENCRYPTION_KEYS": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ]

    func load(_ yaml: String, environment: [String: String] = Self.environment) async throws -> GatewayConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-routes-\(UUID()).yaml")
        try Data(yaml.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await GatewayConfiguration.load(environment: environment, file: file.path)
    }

    func loadError(_ yaml: String, environment: [String: String] = Self.environment) async -> String? {
        do {
            _ = try await load(yaml, environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func yamlRoutesAreRead() async throws {
        let configuration = try await load(
            """
            session_max_age: 2d
            routes:
              - name: admin
                match: {host: app.example, path_prefix: /admin/, methods: [get, POST]}
                upstream: http://127.0.0.1:9000/base/
                allow: {groups: [admins], email_domains: [example.com]}
                pass_access_token: true
              - name: public
                match: {path_prefix: /public}
                upstream: https://static.internal
                skip_auth: true
                identity_headers: false
              - name: app
                upstream: http://127.0.0.1:9001
            """)
        #expect(configuration.sessionMaxAge == .seconds(2 * 86400), "flat settings still come from the file")
        let routes = configuration.routeTable.routes
        #expect(routes.map(\.name) == ["admin", "public", "app"])
        #expect(routes[0].host == "app.example")
        #expect(routes[0].pathPrefix == ["admin"])
        #expect(routes[0].methods == ["GET", "POST"])
        #expect(routes[0].upstream == "http://127.0.0.1:9000/base")
        #expect(routes[0].allow.groups == ["admins"])
        #expect(routes[0].allow.emailDomains == ["example.com"])
        #expect(routes[0].passAccessToken && !routes[0].skipAuth && routes[0].identityHeaders)
        #expect(routes[1].skipAuth && !routes[1].identityHeaders && routes[1].host == nil)
        #expect(routes[2].pathPrefix == [] && routes[2].methods == nil)
        #expect(configuration.authSettings.accessTokenRequired, "a route relays the token")
    }

    @Test func environmentMakesTheOneDefaultRoute() async throws {
        var environment = Self.environment
        environment["GATEHOUSE_UPSTREAM"] = "http://127.0.0.1:9000"
        environment["GATEHOUSE_PASS_ACCESS_TOKEN"] = "true"
        let routes = try await GatewayConfiguration.load(environment: environment).routeTable.routes
        #expect(routes.count == 1)
        #expect(routes[0].name == "default" && routes[0].takesEverything && routes[0].passAccessToken)
    }

    @Test func badRoutesAreRefusedWithTheirPlace() async throws {
        let route = "  - name: app\n    upstream: http://127.0.0.1:9001\n"
        let cases: [(String, String)] = [
            ("routes:\n" + route + "    skip_auht: true\n", "routes[0] (app).skip_auht"),
            ("routes:\n" + route + "    acr_values: []\n", "routes[0] (app).acr_values"),
            ("routes:\n" + route + "    max_age: soon\n", "routes[0] (app).max_age"),
            ("routes:\n" + route + "    allow: {claims: {a: [b]}}\n", "routes[0] (app).allow.claims"),
            ("routes:\n" + route + "    allow: {claims: {a..b: c}}\n", "routes[0] (app).allow.claims"),
            ("routes:\n" + route + "    require_csrf_header: maybe\n", "routes[0] (app).require_csrf_header"),
            ("routes:\n  - upstream: http://127.0.0.1:9001\n", "routes[0].name"),
            ("routes:\n  - name: App\n    upstream: http://x\n", "routes[0].name"),
            ("routes:\n  - name: app\n", "routes[0] (app).upstream"),
            ("routes:\n" + route + route, "is used by an earlier route"),
            ("routes:\n" + route + "    match: {path_prefix: /a/../b}\n", "path_prefix"),
            ("routes:\n" + route + "    match: {path_prefix: /a%2Fb}\n", "path_prefix"),
            ("routes:\n" + route + "    match: {host: other.example}\n", "must be the host of GATEHOUSE_PUBLIC_URL"),
            ("routes:\n" + route + "    match: {methods: [\"GET /\"]}\n", "methods"),
            ("routes:\n" + route + "    skip_auth: yes please\n", "skip_auth"),
            ("routes: []\n", "non-empty list"),
            (
                "routes:\n  - name: all\n    upstream: http://a\n  - name: api\n    match: {path_prefix: /api}\n    upstream: http://b\n",
                "route api can never match: route all comes first"
            ),
        ]
        for (yaml, expected) in cases {
            let message = await loadError(yaml)
            #expect(message?.contains(expected) == true, "\(yaml) → \(message ?? "accepted")")
        }
        var both = Self.environment
        both["GATEHOUSE_UPSTREAM"] = "http://127.0.0.1:9000"
        #expect(await loadError("routes:\n" + route, environment: both)?.contains("not both") == true)
    }

    /// The file's providers (issue 11): read with their settings, and each mistake named by
    /// place; the one-provider variables may not be mixed in.
    @Test func providersAreReadAndBadOnesNamed() async throws {
        var environment = Self.environment
        for name in ["ISSUER", "CLIENT_ID", "CLIENT_SECRET"] { environment["GATEHOUSE_" + name] = nil }
        let providers = """
            providers:
              - id: corp
                name: Corporate SSO
                issuer: https://sso.example
                client_id: gatehouse
                client_secret: s3cret
                scopes: [openid, email]
                extra_auth_params: {prompt: select_account}
                par: always
              - id: gh
                preset: github
                client_id: gh-app
                client_secret: other
            """
        let routes = """
            routes:
              - name: admin
                match: {path_prefix: /admin}
                upstream: http://127.0.0.1:9000
                providers: [corp]
                token: {type: client_credentials, scopes: [api], resource: https://api.example}
              - name: app
                upstream: http://127.0.0.1:9001
                token: none
            """
        let configuration = try await load(providers + "\n" + routes, environment: environment)
        #expect(configuration.loginProviders.map(\.id) == ["corp", "gh"])
        #expect(configuration.loginProviders[0].name == "Corporate SSO" && configuration.loginProviders[1].name == "GitHub")
        #expect(configuration.loginProviders[0].scopes == ["openid", "email"])
        #expect(configuration.loginProviders[0].extraAuthParams.map(\.0) == ["prompt"])
        #expect(configuration.loginProviders[1].kind == "github")
        #expect(configuration.loginProviders[0].pushedAuthorization == .always)
        #expect(configuration.loginProviders[1].pushedAuthorization == .auto)
        let table = configuration.routeTable.routes
        #expect(table[0].providers == ["corp"] && table[1].providers == nil)
        #expect(table[0].token == .clientCredentials(scopes: ["api"], resources: ["https://api.example"]))
        #expect(table[1].token == .none)

        let one = "providers:\n  - id: corp\n    issuer: https://sso.example\n    client_id: app\n"
        let cases: [(String, String)] = [
            ("providers:\n  - id: Corp\n    issuer: https://sso.example\n    client_id: app\n", "providers[0].id"),
            ("providers:\n  - id: corp\n    client_id: app\n", "providers[0] (corp).issuer"),
            ("providers:\n  - id: corp\n    issuer: https://sso.example\n", "providers[0] (corp).client_id"),
            (one + "    preset: okta\n", "providers[0] (corp).preset"),
            (one + "    par: sometimes\n", "providers[0] (corp).par"),
            (one + "    client_secert: x\n", "providers[0] (corp).client_secert"),
            (one + "    extra_auth_params: {state: x}\n", "providers[0] (corp).extra_auth_params.state"),
            (one + "    client_auth: private_key_jwt\n", "providers[0] (corp).client_key_file"),
            (one + one.dropFirst("providers:\n".count), "providers[1] (corp).id"),
            (one + "routes:\n  - name: app\n    upstream: http://a\n    providers: [nope]\n", "names nope, which is not a provider"),
            (one + "routes:\n  - name: app\n    upstream: http://a\n    token: admin\n", "routes[0] (app).token"),
            (
                one + "routes:\n  - name: app\n    upstream: http://a\n    token: none\n    pass_access_token: true\n",
                "routes[0] (app).pass_access_token"
            ),
            ("providers: []\n", "non-empty list"),
        ]
        for (yaml, expected) in cases {
            let message = await loadError(yaml + (yaml.contains("routes:") ? "" : "upstream: http://a\n"), environment: environment)
            #expect(message?.contains(expected) == true, "\(yaml) → \(message ?? "accepted")")
        }
        #expect(await loadError(one + "upstream: http://a\n")?.contains("not both") == true, "GATEHOUSE_ISSUER and providers:")
    }

    @Test func stepUpClaimsAndCSRFFieldsAreRead() async throws {
        let configuration = try await load(
            """
            routes:
              - name: vault
                match: {path_prefix: /vault}
                upstream: http://127.0.0.1:9000
                acr_values: [mfa, "phr phrh"]
                max_age: 5m
                allow: {claims: {"org.id": 42, roles: admin}}
                require_csrf_header: true
              - name: app
                upstream: http://127.0.0.1:9001
                max_age: 300
            """)
        let routes = configuration.routeTable.routes
        #expect(routes[0].stepUp == StepUp(acrValues: ["mfa", "phr", "phrh"], maxAge: 300))
        #expect(routes[0].allow.claims == ["org.id": "42", "roles": "admin"])
        #expect(routes[0].requireCSRFHeader && !routes[1].requireCSRFHeader)
        #expect(routes[1].stepUp == StepUp(maxAge: 300))
        #expect(configuration.retainedClaimPaths == ["org.id", "roles"])
    }
}
