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
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

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
        try process.run()
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
}
