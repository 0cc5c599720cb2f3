import Foundation
import Testing

/// Requests without a session: navigations are sent to the login, everything else gets 401
/// JSON; skip-auth prefixes; the upstream being down.
@Suite("Gateway without a session")
struct UnauthenticatedTests {
    @Test func navigationIsRedirectedToStart() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            let navigate = try await browser.send("GET", "/page?x=1", headers: [("Sec-Fetch-Mode", "navigate")])
            #expect(navigate.status == 302)
            #expect(navigate.header("location") == "/oauth2/start?rd=%2Fpage%3Fx%3D1")
            // A browser without fetch metadata: a GET accepting HTML counts as a navigation.
            let legacy = try await browser.send("GET", "/page", headers: [("Accept", "text/html,application/xhtml+xml")])
            #expect(legacy.status == 302)
            #expect(browser.cookies.isEmpty)
        }
    }

    @Test func fetchGets401JSONWithLoginURL() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            for headers in [[("Sec-Fetch-Mode", "cors"), ("Accept", "text/html")], [("Accept", "application/json")], []] {
                let reply = try await browser.send("GET", "/api/data?page=2", headers: headers)
                #expect(reply.status == 401)
                #expect(reply.header("content-type") == "application/json")
                let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
                #expect(json["login_url"] as? String == "/oauth2/start?rd=%2Fapi%2Fdata%3Fpage%3D2")
                #expect(json["error"] as? String == "unauthenticated")
            }
            let post = try await browser.send("POST", "/api/data", headers: [("Accept", "text/html")], body: "x")
            #expect(post.status == 401)
            // No login was started: no binding cookie.
            #expect(browser.cookies.isEmpty)
        }
    }

    @Test func forwardAuthAndUserInfoWithoutSession() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            #expect(try await browser.send("GET", "/oauth2/auth").status == 401)
            let info = try await browser.send("GET", "/oauth2/userinfo")
            #expect(info.status == 401)
            #expect(info.body.contains("\"login_url\""))
            browser.cookies["__Host-gatehouse"] = "not-a-session-id"
            #expect(try await browser.send("GET", "/oauth2/auth").status == 401)
            browser.cookies["__Host-gatehouse"] = String(repeating: "A", count: 43)
            #expect(try await browser.send("GET", "/oauth2/auth").status == 401)
        }
    }

    @Test func skipAuthRoutesMatchWholeNormalisedSegments() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_SKIP_AUTH_ROUTES": "/public, /assets/"]) { fixture in
            let browser = fixture.browser()
            let open = try await browser.send("GET", "/public/file.css?v=1", headers: [("X-Forwarded-User", "mallory")])
            #expect(open.status == 200)
            #expect(try open.echo().value("X-Forwarded-User") == nil)
            #expect(try await browser.send("GET", "/assets/app.js").status == 200)
            #expect(try await browser.send("GET", "/public").status == 200)
            for path in ["/publicity", "/x?/public", "/public%2Fsecret"] {
                #expect(try await browser.send("GET", path).status == 401, "\(path)")
            }
            // Dot segments are refused outright (RequestTarget), with or without a session.
            for path in ["/public/../secret", "/public/%2e%2e/secret", "/public/..;/secret"] {
                #expect(try await browser.send("GET", path).status == 400, "\(path)")
            }
        }
    }

    @Test func upstreamDownGives502Page() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_SKIP_AUTH_ROUTES": "/public"], upstreamDown: true) {
            fixture in
            let browser = fixture.browser()
            let reply = try await browser.send("GET", "/public/x")
            #expect(reply.status == 502)
            #expect(reply.header("content-type")?.hasPrefix("text/html") == true)
            #expect(reply.body.contains("upstream_unavailable"))
            try await browser.logIn()
            #expect(try await browser.send("GET", "/private").status == 502)
        }
    }

    @Test func healthAndMetrics() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            let health = try await browser.send("GET", "/healthz")
            #expect(health.status == 200)
            #expect(try await browser.send("GET", "/readyz").status == 200)
            let metrics = try await fixture.metrics()
            #expect(metrics.status == 200)
            #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
        }
    }
}
