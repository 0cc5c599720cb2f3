import Foundation
import Testing

/// `GET`/`POST /oauth2/sign_out`.
@Suite("Gateway sign-out")
struct SignOutTests {
    @Test func getShowsAFormAndChangesNothing() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let page = try await browser.send("GET", "/oauth2/sign_out")
            #expect(page.status == 200)
            #expect(page.body.contains("method=\"post\""))
            #expect(page.header("cache-control") == "no-store")
            #expect(try await browser.send("GET", "/still-in").status == 200)
        }
    }

    @Test func sameOriginPostEndsTheSessionAndGoesToTheIdP() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let cookie = try #require(browser.cookies["__Host-gatehouse"])
            let reply = try await browser.send("POST", "/oauth2/sign_out", headers: [("Origin", fixture.baseURL)])
            #expect(reply.status == 302)
            let location = try #require(reply.header("location"))
            #expect(location.hasPrefix(fixture.issuer))
            #expect(location.contains("id_token_hint="))
            #expect(location.contains("post_logout_redirect_uri="))
            #expect(reply.headers("set-cookie").contains { $0.hasPrefix("__Host-gatehouse=") && $0.contains("Max-Age=0") })
            #expect(browser.cookies["__Host-gatehouse"] == nil)
            // The old cookie no longer opens anything: the session is gone on the server.
            browser.cookies["__Host-gatehouse"] = cookie
            #expect(try await browser.send("GET", "/after").status == 401)
            #expect(try await browser.send("GET", "/oauth2/auth").status == 401)
        }
    }

    @Test func crossSitePostIsRefused() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let crossOrigin = try await browser.send(
                "POST", "/oauth2/sign_out", headers: [("Origin", "https://evil.example")])
            #expect(crossOrigin.status == 403)
            let crossSite = try await browser.send("POST", "/oauth2/sign_out", headers: [("Sec-Fetch-Site", "cross-site")])
            #expect(crossSite.status == 403)
            let nullOrigin = try await browser.send("POST", "/oauth2/sign_out", headers: [("Origin", "null")])
            #expect(nullOrigin.status == 403)
            let nullCrossSite = try await browser.send(
                "POST", "/oauth2/sign_out", headers: [("Origin", "null"), ("Sec-Fetch-Site", "cross-site")])
            #expect(nullCrossSite.status == 403)
            #expect(try await browser.send("GET", "/still-in").status == 200)
        }
    }
}
