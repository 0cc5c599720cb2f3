import Foundation
import GatehouseOAuth
import GatehouseStore
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

    /// The cache holds neither the refresh nor the ID token: sign-out gets them from the row it
    /// deletes, revokes the refresh token at the IdP and sends the ID token as the hint.
    @Test func signOutRevokesTheStoredRefreshTokenAndHintsTheStoredIDToken() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            #expect(try await browser.send("GET", "/cached").status == 200)
            let cookie = try #require(browser.cookies["__Host-gatehouse"])
            let id = try #require(SessionID(cookieValue: cookie))
            let store = fixture.gateway.auth.store
            #expect(try await store.load(id)?.tokens.hasRefreshToken == true)
            let stored = try #require(try await store.loadWithTokenSet(hash: id.hash)).tokenSet
            let idToken = try #require(stored.idToken)
            #expect(stored.refreshToken != nil)

            let reply = try await browser.send("POST", "/oauth2/sign_out", headers: [("Origin", fixture.baseURL)])
            #expect(reply.status == 302)
            let location = try #require(reply.header("location").flatMap { URLComponents(string: $0) })
            #expect(location.queryItems?.first { $0.name == "id_token_hint" }?.value == idToken)
            do throws(OAuthError) {
                _ = try await fixture.gateway.auth.client.refresh(stored)
                Issue.record("the refresh token must have been revoked at sign-out")
            } catch {
                #expect(error.code == .invalidGrant)
            }
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
