import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Logging
import Testing

/// The route table end to end (issue 11): one gateway with four YAML routes in front of two
/// upstreams, users × hosts × paths × methods × navigation-or-API → which upstream (and with
/// which identity and token), `302`, `401`, `403`, `404`, `405` or `400` — on the direct path
/// and on the router. Each refusal is a row, so removing its check fails this test.
@Suite("Route rules matrix", .serialized)
struct RouteMatrixTests {
    enum Who: String, Sendable { case anonymous, alice, bob }

    enum Outcome: Equatable, CustomStringConvertible {
        /// Reached upstream `a` or `b`, with or without identity fields and a bearer token.
        case proxied(String, identity: Bool, token: Bool)
        /// Answered by the gateway: status and, for JSON, the `error` code.
        case answered(Int, String?)

        var description: String {
            switch self {
            case .proxied(let upstream, let identity, let token): "proxied to \(upstream) (identity \(identity), token \(token))"
            case .answered(let status, let code): "\(status) \(code ?? "")"
            }
        }
    }

    struct Case: Sendable {
        var who: Who
        var method = "GET"
        var path: String
        var navigation = false
        /// `nil`: the public URL's host.
        var host: String?
        /// `X-Forwarded-Host`, which only a trusted proxy may set (this gateway trusts none).
        var forwardedHost: String? = nil
        var expected: Outcome
    }

    static let yaml = """
        routes:
          - name: admin
            match: {host: 127.0.0.1, path_prefix: /admin, methods: [GET, POST]}
            upstream: http://127.0.0.1:UPSTREAM_B
            allow: {groups: [staff]}
          - name: public
            match: {path_prefix: /public}
            upstream: http://127.0.0.1:UPSTREAM_B
            skip_auth: true
            identity_headers: false
          - name: api
            match: {path_prefix: /api/v1, methods: [GET, DELETE]}
            upstream: http://127.0.0.1:UPSTREAM_A
            allow: {email_domains: [example.org]}
            pass_access_token: true
          - name: app
            match: {host: 127.0.0.1, path_prefix: /}
            upstream: http://127.0.0.1:UPSTREAM_A
        """

    static let cases: [Case] = {
        typealias C = Case
        let admin = Outcome.proxied("b", identity: true, token: false)
        let app = Outcome.proxied("a", identity: true, token: false)
        let api = Outcome.proxied("a", identity: true, token: true)
        let open = Outcome.proxied("b", identity: false, token: false)
        return [
            // admin: staff only, GET and POST, host 127.0.0.1
            C(who: .alice, path: "/admin/x", expected: admin),
            C(who: .alice, method: "POST", path: "/admin/x", expected: admin),
            C(who: .bob, path: "/admin/x", expected: .answered(403, "group_not_allowed")),
            C(who: .bob, path: "/admin/x", navigation: true, expected: .answered(403, nil)),
            C(who: .anonymous, path: "/admin/x", expected: .answered(401, "unauthenticated")),
            C(who: .anonymous, path: "/admin/x", navigation: true, expected: .answered(302, nil)),
            C(who: .alice, method: "DELETE", path: "/admin/x", expected: .answered(405, "method_not_allowed")),
            C(who: .anonymous, method: "PUT", path: "/admin", expected: .answered(405, "method_not_allowed")),
            C(who: .alice, path: "/administrator", expected: app),
            // public: anyone, no identity fields even with a session
            C(who: .anonymous, path: "/public/a.css", expected: open),
            C(who: .alice, path: "/public/a.css", expected: open),
            C(who: .anonymous, method: "DELETE", path: "/public/x", host: "localhost", expected: open),
            // api: example.org only, GET and DELETE, token relayed; never falls through to app
            C(who: .bob, path: "/api/v1/items", expected: api),
            C(who: .bob, method: "DELETE", path: "/api/v1/items/7", expected: api),
            C(who: .bob, method: "POST", path: "/api/v1/items", expected: .answered(405, "method_not_allowed")),
            C(who: .alice, path: "/api/v1/items", expected: .answered(403, "email_not_allowed")),
            C(who: .anonymous, path: "/api/v1/items", expected: .answered(401, "unauthenticated")),
            C(who: .alice, path: "/api/v2/items", expected: app),
            // app: anyone signed in, host 127.0.0.1 only
            C(who: .bob, method: "PATCH", path: "/anything", expected: app),
            C(who: .anonymous, path: "/anything", navigation: true, expected: .answered(302, nil)),
            C(who: .alice, path: "/anything", host: "localhost", expected: .answered(404, "no_route")),
            C(who: .alice, path: "/admin/x", host: "localhost", expected: .answered(404, "no_route")),
            C(who: .anonymous, path: "/anything", navigation: true, host: "localhost", expected: .answered(404, nil)),
            // X-Forwarded-Host from a client that is not a trusted proxy names no route host
            C(who: .alice, path: "/anything", host: "localhost", forwardedHost: "127.0.0.1", expected: .answered(404, "no_route")),
            C(who: .alice, path: "/admin/x", forwardedHost: "localhost", expected: admin),
            // paths an upstream could read as another route's
            C(who: .alice, path: "/admin%2Fx", expected: .answered(400, "ambiguous_path")),
            C(who: .bob, path: "/%61dmin/x", expected: .answered(400, "ambiguous_path")),
            C(who: .bob, path: "/admin;x/y", expected: .answered(400, "ambiguous_path")),
            C(who: .anonymous, path: "/public%2F..%2Fadmin", expected: .answered(400, "dot_segment_in_target")),
            C(who: .anonymous, path: "/public%2Fx", expected: .answered(400, "ambiguous_path")),
            C(who: .alice, path: "/api/v1%2Fitems", expected: .answered(400, "ambiguous_path")),
            C(who: .alice, path: "/files/a%2Fb", expected: app),
        ]
    }()

    @Test(arguments: [true, false]) func everyRouteRuleOnBothPaths(direct: Bool) async throws {
        try await EchoUpstream.with { upstreamA in
            try await EchoUpstream.with { upstreamB in
                let yaml = Self.yaml.replacingOccurrences(of: "UPSTREAM_A", with: "\(upstreamA)")
                    .replacingOccurrences(of: "UPSTREAM_B", with: "\(upstreamB)")
                try await Self.withGateway(yaml: yaml, direct: direct) { port, metricsPort in
                    var cookies: [Who: String] = [:]
                    var cookieName = ""
                    for (who, password) in [(Who.alice, "alice-password-1"), (.bob, "bob-password-1")] {
                        let browser = GatewayBrowser(baseURL: "http://127.0.0.1:\(port)")
                        try await browser.logIn(user: who.rawValue, password: password, returnPath: "/public/")
                        cookieName = browser.cookies["__Host-gatehouse"] != nil ? "__Host-gatehouse" : "gatehouse"
                        let cookie: String = try #require(browser.cookies[cookieName])
                        cookies[who] = cookie
                    }
                    // Twice: the second round finds every session settled in the cache, which
                    // is when the direct path takes requests.
                    for round in 1...2 {
                        for test in Self.cases {
                            let outcome = try await Self.send(
                                test, port: port, cookie: cookies[test.who].map { "\(cookieName)=\($0)" },
                                upstreams: ["\(upstreamA)": "a", "\(upstreamB)": "b"])
                            #expect(
                                outcome == test.expected,
                                "round \(round): \(test.who) \(test.method) \(test.path) host \(test.host ?? "public") navigation \(test.navigation)")
                        }
                    }
                    // Answers are counted under their route's name, on both paths.
                    let metrics = try await GatewayBrowser(baseURL: "http://127.0.0.1:\(metricsPort)").send("GET", "/metrics").body
                    func count(_ route: String, _ status: Int) -> Double? {
                        PrometheusText.value(of: #"gatehouse_http_requests_total{route="\#(route)",status="\#(status)"}"#, in: metrics)
                    }
                    #expect(count("admin", 200) == 6)
                    #expect(count("admin", 405) == 4)
                    #expect(count("api", 200) == 4)
                    #expect(count("api", 403) == 2)
                    #expect(count("api", 405) == 2)
                    #expect(count("public", 200) == 6)
                }
            }
        }
    }

    static func send(_ test: Case, port: Int, cookie: String?, upstreams: [String: String]) async throws -> Outcome {
        var request = "\(test.method) \(test.path) HTTP/1.1\r\nHost: \(test.host ?? "127.0.0.1"):\(port)\r\n"
        if let cookie { request += "Cookie: \(cookie)\r\n" }
        if let forwardedHost = test.forwardedHost { request += "X-Forwarded-Host: \(forwardedHost):\(port)\r\n" }
        request += test.navigation ? "Sec-Fetch-Mode: navigate\r\nAccept: text/html\r\n" : "Accept: application/json\r\n"
        if test.method != "GET", test.method != "DELETE" { request += "Content-Length: 0\r\n" }
        request += "X-Forwarded-User: mallory\r\nConnection: close\r\n\r\n"
        let (responses, _) = try await RawHTTPClient.exchange(port: port, request, count: 1)
        let response = try #require(responses.first, "\(test.method) \(test.path): no answer")
        if response.status == 200, let echo = try? JSONDecoder().decode(EchoUpstream.Echo.self, from: Data(response.body.utf8)) {
            let upstreamPort = echo.authority.flatMap { $0.split(separator: ":").last.map(String.init) } ?? ""
            #expect(echo.values("x-forwarded-user").allSatisfy { $0 != "mallory" }, "a client's identity field passed")
            return .proxied(
                upstreams[upstreamPort] ?? "unknown upstream \(upstreamPort)",
                identity: echo.value("x-forwarded-user") != nil,
                token: echo.value("authorization")?.hasPrefix("Bearer ") == true)
        }
        struct ErrorBody: Decodable { var error: String }
        let code = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body.utf8)).error
        return .answered(response.status, code)
    }

    /// A gateway whose routes come from `yaml` (as `--config`), on SQLite in a temporary
    /// directory, the test IdP as its provider.
    static func withGateway(yaml: String, direct: Bool, _ body: (Int, Int) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-routes-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("gatehouse.yaml")
        try Data(yaml.utf8).write(to: file)
        let port = try TestServer.freePort()
        let metricsPort = try TestServer.freePort()
        let environment = [
            "GATEHOUSE_METRICS_LISTEN": "127.0.0.1:\(metricsPort)",
            "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
            "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
            "GATEHOUSE_ISSUER": try DOT.issuer(),
            "GATEHOUSE_CLIENT_ID": DOT.confidentialClient,
            "GATEHOUSE_CLIENT_SECRET": DOT.secret,
            "GATEHOUSE_SCOPES": "openid email profile groups",
            "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
            "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
            "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
        ]
        let configuration = try await GatewayConfiguration.load(environment: environment, file: file.path)
        var logger = Logger(label: "gatehouse.routes")
        logger.logLevel = .critical
        let gateway = try Gateway(configuration: configuration, logger: logger)
        try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
            try await body(port, metricsPort)
        }
    }
}
