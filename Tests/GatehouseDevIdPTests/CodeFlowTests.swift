import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import Testing

/// The authorization code flow with our own `OAuthClient`, through the real login form.
@Suite("Dev IdP code flow")
struct CodeFlowTests {
    @Test func aliceSignsInWithAnRS256IDToken() async throws {
        try await IdPFixture.with { fixture in
            let result = try await fixture.logIn(try fixture.client())
            let token = try #require(result.idToken)
            #expect(token.algorithm == "RS256")
            #expect(token.keyID == fixture.idp.signingKeyIDs[0])
            let claims = token.claims
            #expect(claims.issuer == fixture.issuer)
            #expect(claims.subject == "alice")
            #expect(claims.audiences == ["rs-client"])
            #expect(claims.authTime != nil)
            #expect(claims.nonce != nil)
            #expect(claims.accessTokenHash != nil)
            #expect(claims.sessionID != nil)
            #expect(result.identity.email == "alice@example.com")
            #expect(result.identity.emailVerified == true)
            #expect(result.identity.name == "Alice Example")
            #expect(result.identity.preferredUsername == "alice")
            #expect(result.identity.groups == ["staff", "admins"])
            #expect(result.tokens.refreshToken != nil)
            #expect(result.tokens.expiresAt.map { $0.timeIntervalSinceNow > 250 } == true)
        }
    }

    @Test func bobSignsInWithAnES256IDTokenAndClientSecretPost() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client("es-client", authentication: .clientSecretPost("es-secret"))
            let result = try await fixture.logIn(client, username: "bob")
            #expect(result.idToken?.algorithm == "ES256")
            #expect(result.idToken?.keyID == fixture.idp.signingKeyIDs[1])
            #expect(result.identity.subject == "bob")
            #expect(result.identity.email == "bob@example.org")
            #expect(result.identity.groups == [])
        }
    }

    @Test func aPublicClientUsesPKCEAlone() async throws {
        try await IdPFixture.with { fixture in
            let result = try await fixture.logIn(try fixture.client("public-client"))
            #expect(result.identity.subject == "alice")
        }
    }

    @Test func userInfoAnswersForTheAccessToken() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let result = try await fixture.logIn(client)
            let info = try await client.userInfo(accessToken: result.tokens.accessToken, subject: "alice")
            #expect(info["email"]?.stringValue == "alice@example.com")
            #expect(info["preferred_username"]?.stringValue == "alice")
            #expect(info["groups"]?.stringArray == ["staff", "admins"])
            await #expect(throws: OAuthError.self) { try await client.userInfo(accessToken: "forged", subject: nil) }
        }
    }

    @Test func wrongPasswordShowsTheFormAgain() async throws {
        try await IdPFixture.with { fixture in
            let request = try await fixture.client().authorizationRequest()
            let browser = TestBrowser()
            let form = try await browser.send(request.url.absoluteString)
            let reply = try await browser.submitLogin(form, action: "login", username: "alice", password: "bob")
            #expect(reply.status == 401)
            #expect(reply.body.contains("role=\"alert\""))
            #expect(reply.location == nil)
        }
    }

    @Test func aSecondLoginUsesTheIdPSession() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let browser = TestBrowser()
            let first = try await fixture.logIn(client, browser: browser)
            let request = try await client.authorizationRequest()
            let reply = try await browser.send(request.url.absoluteString)
            #expect(reply.status == 302, "single sign-on: no form")
            let callback = try #require(reply.location.flatMap(URL.init(string:)))
            let second = try await client.exchange(
                CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending)
            #expect(second.identity.sessionID == first.identity.sessionID)
        }
    }

    @Test func cancelAnswersAccessDeniedWithIssAndState() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let request = try await client.authorizationRequest()
            let callback = try await TestBrowser().cancel(at: request.url)
            let query = TestBrowser.query(callback)
            #expect(query["error"] == "access_denied")
            #expect(query["iss"] == fixture.issuer)
            #expect(query["state"] == request.pending.state)
            await #expect {
                try await client.exchange(CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending)
            } throws: { error in
                (error as? OAuthError)?.code == .accessDenied
            }
        }
    }
}
