import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Logging
import Testing

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension MultiHostTests {
    @Test func aLoginOnOneHostServesEveryHostUnderTheDomain() async throws {
        try await Self.withGateway { port in
            let base = "http://127.0.0.1:\(port)"
            let browser = GatewayBrowser(baseURL: base)
            let app = [("Host", "app.localhost:\(port)"), ("Sec-Fetch-Mode", "navigate")]
            let challenge = try await browser.send("GET", "/reports?q=1", headers: app)
            #expect(challenge.status == 302 && challenge.header("location") == "/oauth2/start?rd=%2Freports%3Fq%3D1")
            // On the application's host, start hops to the public URL's host first.
            let hop = try await browser.send("GET", "/oauth2/start?rd=%2Freports%3Fq%3D1", headers: app)
            #expect(hop.status == 302)
            #expect(
                hop.header("location")
                    == "http://localhost:\(port)/oauth2/start?rd=http%3A%2F%2Fapp.localhost%3A\(port)%2Freports%3Fq%3D1")
            #expect(hop.headers("set-cookie").isEmpty, "no binding cookie on the application's host")
            let start = try await browser.send("GET", try #require(hop.header("location")))
            let authorize = try #require(start.header("location").flatMap(URL.init(string:)))
            #expect(authorize.query?.contains("redirect_uri=http%3A%2F%2Flocalhost%3A\(port)%2Foauth2%2Fcallback") == true)
            let callback = try await DOTBrowser().signIn(
                startingAt: authorize, username: "alice", password: "alice-password-1",
                callbackPrefix: "http://localhost:\(port)/oauth2/callback")
            let done = try await browser.send("GET", callback.absoluteString)
            #expect(done.status == 302 && done.header("location") == "http://app.localhost:\(port)/reports?q=1")
            let sessionCookie = try #require(done.headers("set-cookie").first { $0.hasPrefix("gatehouse=") })
            #expect(sessionCookie.lowercased().contains("domain=localhost"), "\(sessionCookie)")
            // The one session serves every host under the domain.
            for host in ["app.localhost", "admin.localhost", "localhost"] {
                let echo = try await browser.send("GET", "/page", headers: [("Host", "\(host):\(port)")]).echo()
                #expect(echo.headers.contains { $0[0].lowercased() == "x-forwarded-email" && $0[1] == "alice@example.com" }, "\(host)")
            }
            // A sign-out from an application host is same-site by design.
            let signOut = try await browser.send(
                "POST", "/oauth2/sign_out", headers: [("Host", "app.localhost:\(port)"), ("Origin", "http://app.localhost:\(port)")])
            #expect(signOut.status == 302)
            #expect(signOut.headers("set-cookie").contains { $0.hasPrefix("gatehouse=;") && $0.lowercased().contains("domain=localhost") })
            let after = try await browser.send("GET", "/page", headers: [("Host", "app.localhost:\(port)"), ("Accept", "application/json")])
            #expect(after.status == 401)
        }
    }

    /// `rd` may be an absolute URL only on a configured host, with the public URL's scheme;
    /// every other shape becomes `/` (no open redirect through the login).
    @Test func returnTargetsStayOnConfiguredHosts() async throws {
        try await Self.withGateway { port in
            let cases: [(String, String)] = [
                ("http://app.localhost:\(port)/x", "http://app.localhost:\(port)/x"),
                ("http://admin.localhost/x?y=1", "http://admin.localhost/x?y=1"),
                ("http://evil.example/x", "/"),
                ("http://other.localhost:\(port)/x", "/"),
                ("https://app.localhost:\(port)/x", "/"),
                ("http://app.localhost:\(port)@evil.example/x", "/"),
                ("http://evil.example#@app.localhost/x", "/"),
                ("http://app.localhost:\(port)//evil.example", "/"),
                ("http://app.localhost:\(port)/\\evil.example", "/"),
                ("http://app.localhost:\(port)/%0d%0aSet-Cookie:x", "/"),
                ("http://app.localhost.evil.example/x", "/"),
                ("//app.localhost/x", "/"),
                ("/x", "/x"),
            ]
            for (rd, expected) in cases {
                let browser = GatewayBrowser(baseURL: "http://127.0.0.1:\(port)")
                let start = try await browser.send(
                    "GET", "/oauth2/start?rd=" + (rd.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
                    headers: [("Host", "localhost:\(port)")])
                let authorize = try #require(
                    start.header("location").flatMap(URL.init(string:)), "\(rd): \(start.status) \(start.body.prefix(300))")
                let callback = try await DOTBrowser().signIn(
                    startingAt: authorize, username: "bob", password: "bob-password-1",
                    callbackPrefix: "http://localhost:\(port)/oauth2/callback")
                let done = try await browser.send("GET", callback.absoluteString)
                #expect(done.header("location") == expected, "rd \(rd)")
            }
        }
    }

    static func withGateway(_ body: (_ port: Int) async throws -> Void) async throws {
        try await EchoUpstream.with { upstream in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-hosts-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let port = try TestServer.freePort()
            let file = directory.appendingPathComponent("gatehouse.yaml")
            try Data(
                """
                cookie_domain: localhost
                routes:
                  - name: app
                    match: {host: app.localhost}
                    upstream: http://127.0.0.1:\(upstream)
                  - name: admin
                    match: {host: admin.localhost}
                    upstream: http://127.0.0.1:\(upstream)
                    allow: {groups: [staff]}
                  - name: home
                    match: {host: localhost}
                    upstream: http://127.0.0.1:\(upstream)
                """.utf8
            ).write(to: file)
            let environment = [
                "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
                "GATEHOUSE_PUBLIC_URL": "http://localhost:\(port)",
                "GATEHOUSE_COOKIE_SECURE": "false",
                "GATEHOUSE_ISSUER": try DOT.issuer(),
                "GATEHOUSE_CLIENT_ID": DOT.confidentialClient,
                "GATEHOUSE_CLIENT_SECRET": DOT.secret,
                "GATEHOUSE_SCOPES": "openid email profile groups",
                "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
            ]
            let configuration = try await GatewayConfiguration.load(environment: environment, file: file.path)
            var logger = Logger(label: "gatehouse.hosts")
            logger.logLevel = .critical
            let gateway = try Gateway(configuration: configuration, logger: logger)
            try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                try await body(port)
            }
        }
    }
}
