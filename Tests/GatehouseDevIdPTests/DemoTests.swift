import Foundation
import GatehouseTesting
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

    /// Step-up end to end against the development IdP (`acr_values` levels `pwd` and `mfa`):
    /// alice, signed in with a password, opens a route asking for `mfa`; the gateway sends her
    /// back to the IdP, which asks for the one-time code; she returns with `acr: mfa` under a new
    /// session id (the old cookie stops working). An API call gets RFC 9470's challenge; a level
    /// the IdP cannot deliver ends on a page, not in a loop; a step-up answered by another user
    /// ends the session and creates none.
    @Test func stepUpAsksTheIdPForMoreAndChecksWhatComesBack() async throws {
        let executable = try #require(
            DemoProcess.executable, "the gatehouse executable is missing: run swift build --build-tests first")
        let appPort = try ReservedPort.take()
        let yaml = """
            routes:
              - name: vault
                match: {path_prefix: /vault}
                upstream: http://127.0.0.1:\(appPort)
                acr_values: [mfa]
              - name: impossible
                match: {path_prefix: /impossible}
                upstream: http://127.0.0.1:\(appPort)
                acr_values: [hardware-key]
              - name: app
                upstream: http://127.0.0.1:\(appPort)
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-stepup-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(yaml.utf8).write(to: file)
        let demo = try DemoProcess(executable: executable, arguments: ["--config", file.path], appPort: appPort)
        let gateway = "http://127.0.0.1:\(demo.gatewayPort)"
        try await Self.waitUntilReady(gateway + "/healthz")
        let html = [("Accept", "text/html")]

        let alice = TestBrowser()
        let login = try await alice.send(gateway + "/oauth2/start?rd=/", headers: html)
        let first = try await alice.signIn(
            at: try #require(login.location.flatMap(URL.init(string:))), username: "alice", password: "alice")
        #expect(try await alice.send(first.absoluteString).status == 302)
        let cookieName = try #require(alice.cookies.keys.first { $0.hasSuffix("gatehouse") })
        let passwordSession = try #require(alice.cookies[cookieName])
        #expect(try await alice.send(gateway + "/app").status == 200)

        // The API gets RFC 9470's challenge; a navigation goes back to the IdP for mfa.
        let api = try await alice.send(gateway + "/vault/x", headers: [("Accept", "application/json")])
        #expect(api.status == 401)
        #expect(api.headers.first(name: "www-authenticate")?.contains("insufficient_user_authentication") == true)
        #expect(api.headers.first(name: "www-authenticate")?.contains("acr_values=\"mfa\"") == true)
        let vault = try await alice.send(gateway + "/vault/x", headers: html)
        #expect(vault.status == 302 && vault.location == "/oauth2/start?provider=default&rd=%2Fvault%2Fx")
        let start = try await alice.send(gateway + (vault.location ?? "/"), headers: html)
        let authorize = try #require(start.location.flatMap(URL.init(string:)))
        #expect(authorize.absoluteString.contains("acr_values=mfa"))
        let form = try await alice.send(authorize.absoluteString)
        #expect(form.status == 200 && form.body.contains("One-time code"), "the IdP asks for the second factor")
        let wrong = try await alice.submitLogin(form, action: "login", username: "alice", password: "alice", code: "000000")
        #expect(wrong.status == 401)
        let stepped = try await alice.signIn(at: authorize, username: "alice", password: "alice", code: "123456")
        let back = try await alice.send(stepped.absoluteString)
        #expect(back.status == 302 && back.location == "/vault/x")
        #expect(alice.cookies[cookieName] != passwordSession, "a step-up is a privilege change: a new session id")
        #expect(try await alice.send(gateway + "/vault/x", headers: html).status == 200)
        let old = TestBrowser()
        old.cookies[cookieName] = passwordSession
        #expect(try await old.send(gateway + "/app", headers: [("Accept", "application/json")]).status == 401)

        // A level the IdP cannot deliver: one trip, then a page (no loop); the session stays.
        let impossible = try await alice.send(gateway + "/impossible", headers: html)
        #expect(impossible.status == 302)
        let again = try await alice.send(gateway + (impossible.location ?? "/"), headers: html)
        let sso = try await alice.send(try #require(again.location))
        let callback = try #require(sso.location)
        let refused = try await alice.send(callback)
        #expect(refused.status == 403 && refused.body.contains("insufficient_user_authentication"))
        #expect(try await alice.send(gateway + "/vault/x", headers: html).status == 200)

        // A step-up answered by someone else ends alice's session and creates none.
        let shared = TestBrowser()
        let sharedLogin = try await shared.send(gateway + "/oauth2/start?rd=/", headers: html)
        let sharedFirst = try await shared.signIn(
            at: try #require(sharedLogin.location.flatMap(URL.init(string:))), username: "alice", password: "alice")
        _ = try await shared.send(sharedFirst.absoluteString)
        let aliceSession = try #require(shared.cookies[cookieName])
        let stepStart = try await shared.send(gateway + "/oauth2/start?provider=default&rd=/vault/y", headers: html)
        let stepAuthorize = try #require(stepStart.location.flatMap(URL.init(string:)))
        let asBob = try await shared.signIn(at: stepAuthorize, username: "bob", password: "bob", code: "123456")
        let mismatch = try await shared.send(asBob.absoluteString)
        #expect(mismatch.status == 403 && mismatch.body.contains("step_up_subject_mismatch"))
        #expect(shared.cookies[cookieName] == nil)
        let stale = TestBrowser()
        stale.cookies[cookieName] = aliceSession
        #expect(try await stale.send(gateway + "/app", headers: [("Accept", "application/json")]).status == 401)
        _ = await demo.interrupt()
    }

    /// `examples/providers.yaml` as the README shows it (ports moved to this run's): the
    /// chooser offers both providers; carol signs in at partner and reaches the app, which
    /// sees `X-Forwarded-Provider: partner`; the corp-only admin route sends her to corp's
    /// login; alice signs in at corp and steps up with the one-time code to reach it.
    @Test func theProvidersExampleRunsAgainstTheDemo() async throws {
        let executable = try #require(
            DemoProcess.executable, "the gatehouse executable is missing: run swift build --build-tests first")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let example = try String(contentsOf: root.appendingPathComponent("examples/providers.yaml"), encoding: .utf8)
        let appPort = try ReservedPort.take()
        let corpPort = try ReservedPort.take()
        let partnerPort = try ReservedPort.take()
        let yaml = example.replacingOccurrences(of: "127.0.0.1:4182", with: "127.0.0.1:\(appPort)")
            .replacingOccurrences(of: "127.0.0.1:4181", with: "127.0.0.1:\(corpPort)")
            .replacingOccurrences(of: "127.0.0.1:4183", with: "127.0.0.1:\(partnerPort)")
        #expect(yaml != example)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-providers-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(yaml.utf8).write(to: file)
        let demo = try DemoProcess(
            executable: executable, arguments: ["--config", file.path], appPort: appPort)
        let gateway = "http://127.0.0.1:\(demo.gatewayPort)"
        try await Self.waitUntilReady(gateway + "/healthz")
        let html = [("Accept", "text/html")]

        let carol = TestBrowser()
        let chooser = try await carol.send(gateway + "/oauth2/start?rd=/hello", headers: html)
        #expect(chooser.status == 200 && chooser.body.contains("Example Corp") && chooser.body.contains("Partner Inc."))
        let partnerStart = try await carol.send(gateway + "/oauth2/start?provider=partner&rd=%2Fhello", headers: html)
        let partnerAuthorize = try #require(partnerStart.location.flatMap(URL.init(string:)))
        #expect(partnerAuthorize.absoluteString.hasPrefix("http://127.0.0.1:\(partnerPort)/authorize"))
        // Partner's requests are pushed (par: always): the browser carries only a request_uri.
        #expect(TestBrowser.query(partnerAuthorize).keys.sorted() == ["client_id", "request_uri"])
        let carolBack = try await carol.signIn(at: partnerAuthorize, username: "carol", password: "carol")
        #expect(carolBack.absoluteString.hasPrefix(gateway + "/oauth2/callback/partner"))
        #expect(try await carol.send(carolBack.absoluteString).location == "/hello")
        let whoami = try await carol.send(gateway + "/api/whoami")
        let json = try JSONSerialization.jsonObject(with: Data(whoami.body.utf8)) as? [String: Any]
        let headers = json?["headers"] as? [String: String]
        #expect(headers?["X-Forwarded-Provider"] == "partner" && headers?["X-Forwarded-User"] == "carol")
        let admin = try await carol.send(gateway + "/admin", headers: html)
        #expect(admin.status == 302 && admin.location == "/oauth2/start?provider=corp&rd=%2Fadmin")

        let alice = TestBrowser()
        let corpStart = try await alice.send(gateway + "/oauth2/start?provider=corp&rd=%2F", headers: html)
        let corpAuthorize = try #require(corpStart.location.flatMap(URL.init(string:)))
        let aliceBack = try await alice.signIn(at: corpAuthorize, username: "alice", password: "alice")
        _ = try await alice.send(aliceBack.absoluteString)
        let stepUp = try await alice.send(gateway + "/admin", headers: html)
        #expect(stepUp.status == 302)
        let stepStart = try await alice.send(gateway + (stepUp.location ?? "/"), headers: html)
        let stepAuthorize = try #require(stepStart.location.flatMap(URL.init(string:)))
        #expect(stepAuthorize.absoluteString.contains("acr_values=mfa"))
        let stepped = try await alice.signIn(at: stepAuthorize, username: "alice", password: "alice", code: "123456")
        #expect(try await alice.send(stepped.absoluteString).location == "/admin")
        #expect(try await alice.send(gateway + "/admin", headers: html).status == 200)
        _ = await demo.interrupt()
    }

    /// A silent login (`prompt=none`): without an IdP session the IdP answers
    /// `login_required` and the gateway's page says so in its JSON data block (no session,
    /// framable by the gateway's own origin only); with one, the user is signed in without a
    /// page of the IdP and the block says `is_logged_in: true`.
    @Test func silentLoginReportsItsOutcomeToTheFrontEnd() async throws {
        let executable = try #require(
            DemoProcess.executable, "the gatehouse executable is missing: run swift build --build-tests first")
        let demo = try DemoProcess(executable: executable)
        let gateway = "http://127.0.0.1:\(demo.gatewayPort)"
        try await Self.waitUntilReady(gateway + "/healthz")
        func outcome(_ page: TestBrowser.Reply) -> String? {
            guard let start = page.body.range(of: "<script type=\"application/json\" id=\"gatehouse-silent-login\">"),
                let end = page.body[start.upperBound...].range(of: "</script>")
            else { return nil }
            return String(page.body[start.upperBound..<end.lowerBound])
        }

        let browser = TestBrowser()
        let silent = try await browser.send(gateway + "/oauth2/start?prompt=none&rd=/")
        let authorize = try #require(silent.location)
        #expect(authorize.contains("prompt=none"))
        let refused = try await browser.send(authorize)
        let callback = try #require(refused.location, "the IdP answers at once, without a page")
        #expect(callback.contains("error=login_required"))
        let page = try await browser.send(callback)
        #expect(page.status == 200)
        #expect(outcome(page) == "{\"error\":\"login_required\",\"is_logged_in\":false}")
        #expect(page.headers.first(name: "content-security-policy")?.contains("frame-ancestors 'self'") == true)
        #expect(page.headers.first(name: "x-frame-options") == "SAMEORIGIN")
        #expect(!browser.cookies.keys.contains("gatehouse"))

        // Signed in at the IdP (an ordinary login first), a silent login succeeds.
        let login = try await browser.send(gateway + "/oauth2/start?rd=/", headers: [("Accept", "text/html")])
        let first = try await browser.signIn(
            at: try #require(login.location.flatMap(URL.init(string:))), username: "bob", password: "bob")
        _ = try await browser.send(first.absoluteString)
        browser.cookies["gatehouse"] = nil
        let again = try await browser.send(gateway + "/oauth2/start?prompt=none&rd=/")
        let sso = try await browser.send(try #require(again.location))
        let done = try await browser.send(try #require(sso.location))
        #expect(outcome(done) == "{\"is_logged_in\":true}")
        #expect(browser.cookies["gatehouse"] != nil)
        #expect(try await browser.send(gateway + "/api/whoami").status == 200)
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
