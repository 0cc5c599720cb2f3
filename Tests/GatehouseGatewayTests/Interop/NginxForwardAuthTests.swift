import Foundation
import GatehouseTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real nginx (Debian) with `auth_request` in front of the echo app, asking the gateway's
/// `/oauth2/auth`, configured with docs/nginx-forward-auth.conf exactly as the README shows it.
@Suite("nginx auth_request through /oauth2/auth")
struct NginxForwardAuthTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs nginx with the documented server block for the duration of `body`.
    static func withNginx(gatewayPort: Int, appPort: Int, _ body: (Int) async throws -> Void) async throws {
        let nginx = "/usr/sbin/nginx"
        try #require(FileManager.default.isExecutableFile(atPath: nginx), "nginx is missing: scripts/test.sh installs it")
        let port = try TestServer.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-nginx-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/nginx-forward-auth.conf"), encoding: .utf8)
            .replacingOccurrences(of: "__NGINX_PORT__", with: "\(port)")
            .replacingOccurrences(of: "__GATEHOUSE_PORT__", with: "\(gatewayPort)")
            .replacingOccurrences(of: "__APP_PORT__", with: "\(appPort)")
        let path = directory.path
        let configuration = """
            daemon off;
            worker_processes 1;
            pid \(path)/nginx.pid;
            error_log \(path)/error.log warn;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(path)/body;
                proxy_temp_path \(path)/proxy;
                fastcgi_temp_path \(path)/fastcgi;
                uwsgi_temp_path \(path)/uwsgi;
                scgi_temp_path \(path)/scgi;
                \(server)
            }
            """
        let file = directory.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-c", file.path, "-p", path, "-e", "\(path)/error.log"]
        try ProcessLaunch.start(process)
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        // Wait (bounded) until nginx accepts connections.
        for _ in 0..<50 {
            if (try? await GatewayBrowser(baseURL: "http://127.0.0.1:\(port)").send("GET", "/oauth2/userinfo")) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(process.isRunning, "nginx exited: \((try? String(contentsOfFile: path + "/error.log", encoding: .utf8)) ?? "")")
        try await body(port)
    }

    @Test func signedInRequestsReachTheAppWithIdentityAndOthersAreSentToLogin() async throws {
        try await GatewayFixture.with { fixture in
            let gatewayPort = try #require(URLComponents(string: fixture.baseURL)?.port)
            try await Self.withNginx(gatewayPort: gatewayPort, appPort: fixture.upstreamPort) { nginxPort in
                let front = "http://127.0.0.1:\(nginxPort)"
                let anonymous = GatewayBrowser(baseURL: front)
                let refused = try await anonymous.send("GET", "/app/page?x=1", headers: [("X-Forwarded-User", "mallory")])
                #expect(refused.status == 302)
                #expect(refused.header("location")?.hasSuffix("/oauth2/start?rd=/app/page?x=1") == true)

                // Sign in at the gateway, then use the same cookie through nginx.
                let browser = fixture.browser()
                try await browser.logIn()
                let signedIn = GatewayBrowser(baseURL: front)
                signedIn.cookies = browser.cookies
                let reply = try await signedIn.send(
                    "GET", "/app/page", headers: [("X-Forwarded-User", "mallory"), ("X-Forwarded-Groups", "root")])
                #expect(reply.status == 200)
                let echo = try reply.echo()
                #expect(echo.value("x-forwarded-user") == "1")
                #expect(echo.value("x-forwarded-email") == "alice@example.com")
                #expect(echo.value("x-forwarded-preferred-username") == "alice")
                #expect(echo.value("x-forwarded-groups") == "staff")
            }
        }
    }

    /// Other auth proxies' identity headers and client-address claims sent through nginx never
    /// reach the app, signed in or on the way to the login; `/oauth2/auth` answers with
    /// Gatehouse's identity fields only, whatever the subrequest carried.
    @Test func forgedIdentityAndAddressHeadersDoNotReachTheApp() async throws {
        // The names docs/nginx-forward-auth.conf clears (nginx cannot clear a family by
        // prefix), and an `_` spelling, which nginx drops by default.
        let identity = [
            "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username",
            "X-Auth-Request-Access-Token", "X-Forwarded-Access-Token", "X-Forwarded-Provider", "Remote-User",
            "Remote-Email", "Remote-Groups", "Remote-Name", "X-Remote-User", "X-Remote-Group", "X-Authenticated-User",
            "X-Auth-User", "X-WEBAUTH-USER", "X-User", "X-Email", "Remote_User",
        ].map { ($0, "mallory") }
        let forged =
            identity + SpoofedHeaderTests.clientAddresses
            + [("X-Forwarded-For", "203.0.113.9"), ("X-Real-IP", "203.0.113.10"), ("X-Request-Id", "kept")]
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let answer = try await browser.send("GET", "/oauth2/auth", headers: forged)
            #expect(answer.status == 202)
            let gatewaySets = ["x-forwarded-for", "x-request-id", "x-forwarded-provider"]
            for (name, _) in forged where !gatewaySets.contains(name.lowercased()) {
                #expect(answer.header(name) == nil, "\(name) in the forward-auth answer")
            }
            #expect(answer.header("x-forwarded-user") == "1")

            let gatewayPort = try #require(URLComponents(string: fixture.baseURL)?.port)
            try await Self.withNginx(gatewayPort: gatewayPort, appPort: fixture.upstreamPort) { nginxPort in
                let signedIn = GatewayBrowser(baseURL: "http://127.0.0.1:\(nginxPort)")
                signedIn.cookies = browser.cookies
                let reply = try await signedIn.send("GET", "/app/page", headers: forged)
                #expect(reply.status == 200)
                let echo = try reply.echo()
                for (name, _) in identity + SpoofedHeaderTests.clientAddresses {
                    #expect(echo.value(name) == nil, "\(name) reached the app: \(echo.values(name))")
                }
                #expect(echo.values("x-forwarded-for") == ["127.0.0.1"])
                #expect(echo.values("x-real-ip") == ["127.0.0.1"])
                #expect(echo.value("x-request-id") == "kept")
                #expect(echo.value("x-forwarded-user") == "1")
            }
        }
    }
}
