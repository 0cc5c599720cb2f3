import Foundation
import GatehouseTestSupport
import Testing

/// `gatehouse demo` end to end: the real executable on free ports; alice and bob sign in
/// through the gateway and see themselves on the whoami page; SIGINT stops it cleanly.
@Suite("gatehouse demo")
struct DemoTests {
    /// Fails (never skips) when the executable is missing: `swift build --build-tests` builds it.
    @Test func aliceAndBobSignInThroughTheGateway() async throws {
        let executable = try #require(
            DemoProcess.executable, "the gatehouse executable is missing: run swift build --build-tests first")
        let demo = try DemoProcess(executable: executable)
        let gateway = "http://127.0.0.1:\(demo.gatewayPort)"
        try await Self.waitUntilReady(gateway + "/healthz")

        for (user, groups) in [("alice", "staff,admins"), ("bob", nil)] {
            let browser = TestBrowser()
            let start = try await browser.send(gateway + "/", headers: [("Accept", "text/html")])
            #expect(start.status == 302)
            let login = try await browser.send(
                gateway + (start.location ?? "/oauth2/start"), headers: [("Accept", "text/html")])
            let authorize = try #require(login.location.flatMap(URL.init(string:)))
            #expect(authorize.absoluteString.hasPrefix("http://127.0.0.1:\(demo.idpPort)/authorize"))
            let callback = try await browser.signIn(at: authorize, username: user, password: user)
            #expect(callback.absoluteString.hasPrefix(gateway + "/oauth2/callback"))
            let done = try await browser.send(callback.absoluteString)
            #expect(done.status == 302)
            let page = try await browser.send(gateway + "/")
            #expect(page.status == 200)
            #expect(page.body.contains("Hello, <strong>\(user)</strong>"))
            let whoami = try await browser.send(gateway + "/api/whoami")
            let json = try JSONSerialization.jsonObject(with: Data(whoami.body.utf8)) as? [String: Any]
            let headers = json?["headers"] as? [String: String]
            #expect(headers?["X-Forwarded-User"] == user)
            #expect(headers?["X-Forwarded-Groups"] == groups)
            let claims = json?["access_token_claims"] as? [String: Any]
            #expect(claims?["sub"] as? String == user)
        }

        let status = await demo.interrupt()
        #expect(status == 0)
        let printed = demo.printed()
        #expect(printed.contains("Open \(gateway)/"))
        #expect(printed.contains("alice / alice"))
        #expect(printed.contains("Gatehouse demo stopped."))
        let key = demo.directory.appendingPathComponent("encryption.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// `examples/routes.yaml` as the README shows it (only the whoami app's port changed to
    /// this run's): admin for group admins with GET only, public without login, the rest for
    /// anyone signed in.
    @Test func theRoutesExampleRunsAgainstTheDemo() async throws {
        let executable = try #require(
            DemoProcess.executable, "the gatehouse executable is missing: run swift build --build-tests first")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let example = try String(contentsOf: root.appendingPathComponent("examples/routes.yaml"), encoding: .utf8)
        #expect(example.contains("127.0.0.1:4182"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-routes-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        let appPort = try ReservedPort.take()
        try Data(example.replacingOccurrences(of: "127.0.0.1:4182", with: "127.0.0.1:\(appPort)").utf8).write(to: file)
        let running = try DemoProcess(executable: executable, arguments: ["--config", file.path], appPort: appPort)
        let gateway = "http://127.0.0.1:\(running.gatewayPort)"
        try await Self.waitUntilReady(gateway + "/healthz")

        let anonymous = TestBrowser()
        #expect(try await anonymous.send(gateway + "/public/page", headers: [("Accept", "text/html")]).status == 200)
        #expect(try await anonymous.send(gateway + "/admin/page", headers: [("Accept", "application/json")]).status == 401)
        for (user, adminStatus) in [("alice", 200), ("bob", 403)] {
            let browser = TestBrowser()
            let login = try await browser.send(gateway + "/oauth2/start?rd=/", headers: [("Accept", "text/html")])
            let authorize = try #require(login.location.flatMap(URL.init(string:)))
            let callback = try await browser.signIn(at: authorize, username: user, password: user)
            #expect(try await browser.send(callback.absoluteString).status == 302)
            let admin = try await browser.send(gateway + "/admin/page", headers: [("Accept", "text/html")])
            #expect(admin.status == adminStatus, "\(user) on /admin")
            if adminStatus == 200 { #expect(admin.body.contains(user)) }
            #expect(try await browser.send(gateway + "/app", headers: [("Accept", "text/html")]).status == 200)
        }
        _ = await running.interrupt()
    }

    /// OpenID Connect Front-Channel Logout end to end: alice signs out at the development IdP;
    /// its logout page frames the gateway's `/oauth2/frontchannel-logout?iss=…&sid=…`, which —
    /// fetched without any cookie, as a cross-site frame is — ends her gateway session. Only the
    /// IdP's origin may frame the answer; a request without `sid` or from an unknown issuer
    /// ends nothing.
    @Test func frontChannelLogoutEndsTheGatewaySession() async throws {
        let executable = try #require(
            DemoProcess.executable, "the gatehouse executable is missing: run swift build --build-tests first")
        let demo = try DemoProcess(executable: executable)
        let gateway = "http://127.0.0.1:\(demo.gatewayPort)"
        let idp = "http://127.0.0.1:\(demo.idpPort)"
        try await Self.waitUntilReady(gateway + "/healthz")
        let browser = TestBrowser()
        let login = try await browser.send(gateway + "/oauth2/start?rd=/", headers: [("Accept", "text/html")])
        let callback = try await browser.signIn(
            at: try #require(login.location.flatMap(URL.init(string:))), username: "alice", password: "alice")
        #expect(try await browser.send(callback.absoluteString).status == 302)
        #expect(try await browser.send(gateway + "/api/whoami").status == 200)

        let stranger = TestBrowser()
        #expect(try await stranger.send(gateway + "/oauth2/frontchannel-logout?iss=\(idp)").status == 400)
        let foreign = try await stranger.send(gateway + "/oauth2/frontchannel-logout?iss=https://evil.example&sid=x")
        #expect(foreign.status == 400 && foreign.body.contains("unknown_issuer"))
        #expect(try await browser.send(gateway + "/api/whoami").status == 200, "nothing ended yet")

        let signedOut = try await browser.send(idp + "/end_session", form: [("confirm", "yes")])
        #expect(signedOut.status == 200)
        let frames = signedOut.body.components(separatedBy: "<iframe src=\"").dropFirst()
            .compactMap { $0.split(separator: "\"").first }.map { $0.replacingOccurrences(of: "&amp;", with: "&") }
        #expect(frames.count == 1)
        let frame = try #require(frames.first)
        #expect(frame.hasPrefix(gateway + "/oauth2/frontchannel-logout?iss="))
        #expect(signedOut.headers.first(name: "content-security-policy")?.contains("frame-src \(gateway)") == true)
        let framed = try await TestBrowser().send(frame)
        #expect(framed.status == 200)
        let policy = framed.headers.first(name: "content-security-policy") ?? ""
        #expect(policy.contains("frame-ancestors \(idp)") && !policy.contains("frame-ancestors 'none'"), "\(policy)")
        #expect(framed.headers.first(name: "x-frame-options") == nil)
        let after = try await browser.send(gateway + "/api/whoami", headers: [("Accept", "application/json")])
        #expect(after.status == 401)
        _ = await demo.interrupt()
    }

    /// Polls `url` until it answers 200 (the child process starting up), for up to 60 s.
    static func waitUntilReady(_ url: String) async throws {
        for _ in 0..<600 {
            if let reply = try? await TestBrowser().send(url), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestBrowser.Failure("the demo did not start")
    }
}
