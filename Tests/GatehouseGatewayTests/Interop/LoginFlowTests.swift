import Foundation
import GatehouseTestSupport
import Testing

/// The whole login through the gateway against the real django-oauth-toolkit, and what the
/// upstream then sees.
@Suite("Gateway login flow")
struct LoginFlowTests {
    @Test func loginSetsAHostPrefixedSessionCookieAndReturns() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            let start = try await browser.send("GET", "/oauth2/start?rd=%2Fafter%3Fx%3D1")
            #expect(start.status == 302)
            #expect(start.header("location")?.hasPrefix(fixture.issuer) == true)
            #expect(start.header("cache-control") == "no-store")
            #expect(start.header("referrer-policy") == "no-referrer")
            let binding = try #require(start.headers("set-cookie").first)
            #expect(binding.hasPrefix("__Host-gatehouse-login-"))
            #expect(binding.contains("HttpOnly") && binding.contains("Secure") && binding.contains("SameSite=Lax"))

            let location = try #require(start.header("location").flatMap(URL.init(string:)))
            let callbackURL = try await DOTBrowser().signIn(
                startingAt: location, username: "alice", password: "alice-password-1",
                callbackPrefix: fixture.baseURL + "/oauth2/callback")
            let callback = try await browser.send("GET", callbackURL.absoluteString)
            #expect(callback.status == 302)
            #expect(callback.header("location") == "/after?x=1")
            #expect(callback.header("referrer-policy") == "no-referrer")
            #expect(callback.header("cache-control") == "no-store")
            let session = try #require(callback.headers("set-cookie").first { $0.hasPrefix("__Host-gatehouse=") })
            for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
                #expect(session.contains(attribute), "\(attribute) in \(session)")
            }
            #expect(callback.headers("set-cookie").contains { $0.hasPrefix("__Host-gatehouse-login-") && $0.contains("Max-Age=0") })
            #expect(browser.cookies.keys.sorted() == ["__Host-gatehouse", "__Host-gatehouse-loop"])
        }
    }

    @Test func proxiedRequestCarriesIdentityAndNoGatehouseCookie() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            browser.cookies["app"] = "kept"
            let reply = try await browser.send(
                "GET", "/hello/world?q=1",
                headers: [
                    ("X-Forwarded-User", "mallory"), ("X-Forwarded-Email", "mallory@evil.example"),
                    ("X-Forwarded-Groups", "admin"), ("X-Forwarded-Preferred-Username", "root"),
                    ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Host", "evil.example"),
                    ("Connection", "X-Secret-Hop"), ("X-Secret-Hop", "1"),
                ])
            #expect(reply.status == 200)
            let echo = try reply.echo()
            #expect(echo.path == "/hello/world")
            #expect(echo.query == "q=1")
            #expect(echo.values("X-Forwarded-User").count == 1)
            #expect(echo.value("X-Forwarded-User") != "mallory")
            #expect(echo.value("X-Forwarded-Email") == "alice@example.com")
            #expect(echo.value("X-Forwarded-Preferred-Username") == "alice")
            #expect(echo.value("X-Forwarded-Groups") == "staff")
            #expect(echo.values("X-Forwarded-For") == ["127.0.0.1"])
            #expect(echo.value("X-Forwarded-Host") == fixture.baseURL.replacingOccurrences(of: "http://", with: ""))
            #expect(echo.value("X-Forwarded-Proto") == "http")
            #expect(echo.value("X-Secret-Hop") == nil)
            #expect(echo.value("Authorization") == nil)
            #expect(echo.values("Cookie") == ["app=kept"])
        }
    }

    @Test func metricsCountAnswersUpstreamLatencyAndActiveSessions() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            for _ in 0..<3 { #expect(try await browser.send("GET", "/app/page?secret=x").status == 200) }
            #expect(try await browser.send("GET", "/oauth2/nothing-here").status == 404)
            let metrics = try await fixture.metrics().body
            func value(_ series: String) -> Double? { PrometheusText.value(of: series, in: metrics) }
            #expect(value(#"gatehouse_http_requests_total{route="proxy",status="200"}"#) == 3)
            #expect(value(#"gatehouse_http_requests_total{route="/oauth2/callback",status="302"}"#) == 1)
            #expect(value(#"gatehouse_http_requests_total{route="/oauth2/other",status="404"}"#) == 1)
            #expect(value("gatehouse_upstream_duration_seconds_count") == 3)
            #expect(value("gatehouse_active_sessions") == 1)
            // Bounded label values: no raw path or query becomes a series.
            #expect(!metrics.contains("/app/page"))
            #expect(!metrics.contains("secret"))
        }
    }

    @Test func accessTokenPassedWhenConfigured() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_PASS_ACCESS_TOKEN": "true"]) { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let echo = try await browser.send("GET", "/api", headers: [("Authorization", "Bearer forged")]).echo()
            let authorization = try #require(echo.value("Authorization"))
            #expect(authorization.hasPrefix("Bearer "))
            #expect(authorization != "Bearer forged")
            #expect(echo.values("Authorization").count == 1)
        }
    }

    @Test func upstreamRedirectIsPassedOnNotFollowed() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let reply = try await browser.send("GET", "/redirect")
            #expect(reply.status == 302)
            #expect(reply.header("location") == "/elsewhere")
        }
    }

    @Test func forwardAuthAndUserInfoAfterLogin() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let auth = try await browser.send("GET", "/oauth2/auth")
            #expect(auth.status == 202)
            #expect(auth.header("X-Forwarded-Email") == "alice@example.com")
            #expect(auth.header("X-Forwarded-Preferred-Username") == "alice")
            #expect(auth.header("X-Forwarded-Groups") == "staff")
            #expect(auth.header("X-Forwarded-User")?.isEmpty == false)
            let info = try await browser.send("GET", "/oauth2/userinfo")
            #expect(info.status == 200)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(info.body.utf8)) as? [String: Any])
            #expect(json["email"] as? String == "alice@example.com")
            #expect(json["preferred_username"] as? String == "alice")
            #expect(json["groups"] as? [String] == ["staff"])
            #expect(json["sign_out_url"] as? String == "/oauth2/sign_out")
            #expect(json["session_expires_at"] is String)
            #expect(json["subject"] as? String == auth.header("X-Forwarded-User"))
        }
    }

    @Test func twoLoginsInParallelInOneBrowserBothComplete() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            let first = try await browser.signInAtIdP(user: "alice", password: "alice-password-1", returnPath: "/one")
            let second = try await browser.signInAtIdP(user: "alice", password: "alice-password-1", returnPath: "/two")
            #expect(browser.cookies.keys.filter { $0.hasPrefix("__Host-gatehouse-login-") }.count == 2)
            let secondReply = try await browser.send("GET", second.absoluteString)
            #expect(secondReply.status == 302)
            #expect(secondReply.header("location") == "/two")
            let firstReply = try await browser.send("GET", first.absoluteString)
            #expect(firstReply.status == 302)
            #expect(firstReply.header("location") == "/one")
            #expect(try await browser.send("GET", "/x").status == 200)
        }
    }

    @Test func forwardedHeadersFromATrustedProxyAreKept() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_TRUSTED_PROXIES": "127.0.0.0/8"]) { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let echo = try await browser.send(
                "GET", "/x",
                headers: [
                    ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"),
                    ("X-Forwarded-Host", "app.example"), ("X-Forwarded-User", "mallory"),
                ]
            ).echo()
            #expect(echo.values("X-Forwarded-For") == ["203.0.113.9, 127.0.0.1"])
            #expect(echo.value("X-Forwarded-Proto") == "https")
            #expect(echo.value("X-Forwarded-Host") == "app.example")
            // Identity headers are never believed, whoever sends them.
            #expect(echo.value("X-Forwarded-User") != "mallory")
        }
    }
}
