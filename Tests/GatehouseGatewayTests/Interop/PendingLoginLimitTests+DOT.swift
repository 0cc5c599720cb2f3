import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Testing

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension PendingLoginLimitTests {
    /// The unbounded flood of the review: beyond `GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT`
    /// starts from one address get `429` with `Retry-After` (JSON for scripts, a page for
    /// navigations) and store nothing; a completed login frees its slot.
    @Test func startsBeyondThePerClientCapAreRefused() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT": "5"]) { fixture in
            let browser = fixture.browser()
            let callback = try await browser.signInAtIdP(user: "alice", password: "alice-password-1", returnPath: "/app")
            for index in 1...4 {
                #expect(try await Self.cookielessStart(fixture).status == 302, "start \(index + 1)")
            }
            let stored = try await fixture.gateway.auth.store.pendingCount()
            #expect(stored == 5)
            let json = try await Self.cookielessStart(fixture)
            Self.expectRefused(json)
            #expect(json.header("content-type")?.hasPrefix("application/json") == true)
            #expect(json.body.contains("\"error\":\"too_many_logins\""))
            let page = try await Self.cookielessStart(fixture, navigation: true)
            Self.expectRefused(page)
            #expect(page.header("content-type")?.hasPrefix("text/html") == true)
            #expect(page.body.contains("Too many sign-ins in progress"))
            #expect(try await fixture.gateway.auth.store.pendingCount() == stored, "a refused start stores nothing")

            #expect(try await browser.send("GET", callback.absoluteString).status == 302)
            #expect(try await Self.cookielessStart(fixture).status == 302, "the completed login freed its slot")
            Self.expectRefused(try await Self.cookielessStart(fixture))
        }
    }

    /// Behind a trusted proxy the client is the right-most untrusted `X-Forwarded-For` entry,
    /// IPv6 clients are grouped by /64; without trust the header changes nothing.
    @Test func clientsAreTheTrustedProxysClientsAndIPv6CountsBySlash64() async throws {
        try await GatewayFixture.with(environment: [
            "GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT": "3", "GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1/32",
        ]) { fixture in
            for _ in 0..<3 { #expect(try await Self.cookielessStart(fixture, forwardedFor: "203.0.113.5").status == 302) }
            Self.expectRefused(try await Self.cookielessStart(fixture, forwardedFor: "203.0.113.5"))
            // A client writing its own entry further left does not escape its count.
            Self.expectRefused(try await Self.cookielessStart(fixture, forwardedFor: "198.51.100.1, 203.0.113.5"))
            #expect(try await Self.cookielessStart(fixture, forwardedFor: "203.0.113.6").status == 302)
            #expect(try await Self.cookielessStart(fixture, forwardedFor: "::ffff:203.0.113.6").status == 302)

            for address in ["2001:db8:1:2::1", "[2001:db8:1:2::2]", "2001:db8:1:2:abcd:ef01:2345:6789"] {
                let reply = try await Self.cookielessStart(fixture, forwardedFor: address)
                #expect(reply.status == 302)
            }
            Self.expectRefused(
                try await Self.cookielessStart(fixture, forwardedFor: "2001:db8:1:2:ffff:ffff:ffff:ffff"), "same /64")
            #expect(try await Self.cookielessStart(fixture, forwardedFor: "2001:db8:1:3::1").status == 302)
        }
        try await GatewayFixture.with(environment: ["GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT": "3"]) { fixture in
            for index in 0..<3 {
                #expect(try await Self.cookielessStart(fixture, forwardedFor: "203.0.113.\(index)").status == 302)
            }
            Self.expectRefused(
                try await Self.cookielessStart(fixture, forwardedFor: "203.0.113.99"), "X-Forwarded-For from an untrusted peer")
        }
    }

    /// `GATEHOUSE_MAX_PENDING_LOGINS` caps every client together.
    @Test func startsBeyondTheGlobalCapAreRefused() async throws {
        try await GatewayFixture.with(environment: [
            "GATEHOUSE_MAX_PENDING_LOGINS": "4", "GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1/32",
        ]) { fixture in
            for index in 0..<4 {
                #expect(try await Self.cookielessStart(fixture, forwardedFor: "203.0.113.\(index)").status == 302)
            }
            let refused = try await Self.cookielessStart(fixture, forwardedFor: "198.51.100.7")
            Self.expectRefused(refused)
            #expect(refused.body.contains("Too many sign-ins are in progress"))
            #expect(try await fixture.gateway.auth.store.pendingCount() == 4)
        }
    }

    /// A browser at a cap with logins of its own swaps its oldest for the new one instead of
    /// being refused.
    @Test func aBrowserAtTheCapSwapsItsOldestLogin() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT": "2"]) { fixture in
            let browser = fixture.browser()
            #expect(try await browser.send("GET", Self.start).status == 302)
            #expect(try await browser.send("GET", Self.start).status == 302)
            let oldest = try #require(Self.bindings(browser).min { $0.value < $1.value })
            let third = try await browser.send("GET", Self.start)
            #expect(third.status == 302)
            #expect(third.headers("set-cookie").contains { $0.hasPrefix(oldest.key + "=") && $0.contains("Max-Age=0") })
            #expect(Self.bindings(browser).count == 2)
            #expect(try await fixture.gateway.auth.store.pendingCount() == 2)
            Self.expectRefused(try await Self.cookielessStart(fixture), "another browser at the cap is refused")
        }
    }

    /// Thirty tabs restoring at once all go to the IdP and can all finish; forty starts in a
    /// row too (no loop page, no 429), the oldest logins given up so that the binding cookies
    /// stay under 8 KiB. Before: the ninth start of a browser got 429 and the twelfth 508.
    @Test func manyTabsAtOnceAreAllSentToTheIdP() async throws {
        try await GatewayFixture.with { fixture in
            let tabs = try await withThrowingTaskGroup(of: GatewayBrowser.Reply.self) { group in
                for tab in 0..<30 {
                    group.addTask { try await fixture.browser().send("GET", "/oauth2/start?rd=%2Ftab%2F\(tab)") }
                }
                return try await group.reduce(into: [GatewayBrowser.Reply]()) { $0.append($1) }
            }
            #expect(tabs.allSatisfy { $0.status == 302 && $0.header("location")?.hasPrefix(fixture.issuer) == true })
            // One browser: every tab's cookie lands in the same jar; then each tab finishes.
            let browser = fixture.browser()
            for tab in tabs { Self.keep(tab, in: browser) }
            #expect(Self.bindings(browser).count == 30)
            let idp = DOTBrowser()
            var finished = 0
            for tab in tabs {
                let location = try #require(tab.header("location").flatMap(URL.init(string:)))
                let callback = try await idp.signIn(
                    startingAt: location, username: "alice", password: "alice-password-1",
                    callbackPrefix: fixture.baseURL + "/oauth2/callback")
                let reply = try await browser.send("GET", callback.absoluteString)
                #expect(reply.status == 302)
                if reply.header("location")?.hasPrefix("/tab/") == true { finished += 1 }
            }
            #expect(finished == 30)

            let restorer = fixture.browser()
            var first: GatewayBrowser.Reply?
            for index in 0..<40 {
                let reply = try await restorer.send("GET", "/oauth2/start?rd=%2Fr%2F\(index)")
                #expect(reply.status == 302, "start \(index + 1)")
                #expect(reply.headers("set-cookie").joined(separator: "\r\n").utf8.count < 8 * 1024)
                #expect(Self.cookieHeaderBytes(Self.bindings(restorer)) < 8 * 1024)
                if index == 0 { first = reply }
            }
            #expect(Self.bindings(restorer).count == 32)
            #expect(try await fixture.gateway.auth.store.pendingCount() == 32, "given-up logins left the store")
            // The first login was given up: its callback fails; the last one completes.
            let firstLocation = try #require(first?.header("location").flatMap(URL.init(string:)))
            let staleCallback = try await idp.signIn(
                startingAt: firstLocation, username: "alice", password: "alice-password-1",
                callbackPrefix: fixture.baseURL + "/oauth2/callback")
            #expect(try await restorer.send("GET", staleCallback.absoluteString).status == 400)
            let last = try await restorer.signInAtIdP(user: "alice", password: "alice-password-1", returnPath: "/done")
            #expect(try await restorer.send("GET", last.absoluteString).header("location") == "/done")
        }
    }

    /// DESIGN §1: the binding is checked before the pending login is consumed, so a callback
    /// from another browser (login CSRF) or with a forged binding uses nothing up, and the
    /// browser that started the login still finishes it. Before: the forged callback consumed
    /// the login and the real one got "expired or already used".
    @Test func aWrongBindingDoesNotConsumeTheLogin() async throws {
        try await GatewayFixture.with { fixture in
            let victim = fixture.browser()
            let callback = try await victim.signInAtIdP(user: "alice", password: "alice-password-1", returnPath: "/mine")
            let bindingName = try #require(Self.bindings(victim).first?.key)

            let attacker = fixture.browser()
            let noCookie = try await attacker.send("GET", callback.absoluteString)
            #expect(noCookie.status == 400)
            #expect(noCookie.body.contains("browser_binding_mismatch"))
            attacker.cookies[bindingName] = "1700000000000." + String(repeating: "A", count: 43)
            let forged = try await attacker.send("GET", callback.absoluteString)
            #expect(forged.status == 400)
            #expect(forged.body.contains("browser_binding_mismatch"))
            #expect(attacker.cookies["__Host-gatehouse"] == nil)

            let real = try await victim.send("GET", callback.absoluteString)
            #expect(real.status == 302)
            #expect(real.header("location") == "/mine")
            #expect(victim.cookies["__Host-gatehouse"] != nil)
            let replay = try await victim.send("GET", callback.absoluteString)
            #expect(replay.status == 400)
            #expect(replay.body.contains("unknown_state"))
        }
    }

    /// A start from a browser with no cookies, as a flood sends them.
    static func cookielessStart(
        _ fixture: GatewayFixture, forwardedFor: String? = nil, navigation: Bool = false
    ) async throws -> GatewayBrowser.Reply {
        var headers: [(String, String)] = []
        if let forwardedFor { headers.append(("X-Forwarded-For", forwardedFor)) }
        if navigation { headers.append(("Accept", "text/html")) }
        return try await fixture.browser().send("GET", start, headers: headers)
    }

    static func expectRefused(_ reply: GatewayBrowser.Reply, _ comment: Comment? = nil) {
        #expect(reply.status == 429, comment)
        #expect(reply.header("retry-after") == "30", comment)
        #expect(reply.header("location") == nil, comment)
        #expect(reply.headers("set-cookie").isEmpty, comment)
    }

    /// Stores an answer's cookies in `browser` (the tabs shared one jar).
    static func keep(_ reply: GatewayBrowser.Reply, in browser: GatewayBrowser) {
        for header in reply.headers("set-cookie") {
            let pair = header.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            browser.cookies[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
    }

    static func bindings(_ browser: GatewayBrowser) -> [String: String] {
        browser.cookies.filter { $0.key.hasPrefix("__Host-gatehouse-login-") }
    }

    /// The size of a `Cookie` header carrying `cookies`.
    static func cookieHeaderBytes(_ cookies: [String: String]) -> Int {
        ("Cookie: " + cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")).utf8.count
    }
}
