import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import Testing

/// RP-Initiated Logout and Back-Channel Logout.
@Suite("Dev IdP logout")
struct LogoutTests {
    @Test func endSessionRedirectsWithStateAndEndsTheIdPSession() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let browser = TestBrowser()
            let login = try await fixture.logIn(client, browser: browser)
            let url = try #require(
                try await client.endSessionURL(
                    idTokenHint: login.idToken?.rawValue, postLogoutRedirectURI: IdPFixture.postLogoutURI, state: "bye"))
            let reply = try await browser.send(url.absoluteString)
            #expect(reply.status == 302)
            #expect(reply.location == IdPFixture.postLogoutURI + "?state=bye")
            #expect(browser.cookies["devidp-session"] == nil)
            // The IdP asks for the password again, and the grant is gone.
            let next = try await browser.send(try await client.authorizationRequest().url.absoluteString)
            #expect(next.status == 200)
            await #expect {
                try await client.refresh(login.tokens)
            } throws: { ($0 as? OAuthError)?.code == .invalidGrant }
        }
    }

    @Test func anUnregisteredPostLogoutRedirectIsRefused() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let login = try await fixture.logIn(client)
            let url = try #require(
                try await client.endSessionURL(
                    idTokenHint: login.idToken?.rawValue, postLogoutRedirectURI: "https://evil.example/"))
            let reply = try await TestBrowser().send(url.absoluteString)
            #expect(reply.status == 400)
            #expect(reply.location == nil)
        }
    }

    @Test func withoutAHintTheUserConfirms() async throws {
        try await IdPFixture.with { fixture in
            let browser = TestBrowser()
            _ = try await fixture.logIn(try fixture.client(), browser: browser)
            let page = try await browser.send(fixture.issuer + "/end_session")
            #expect(page.status == 200)
            #expect(page.body.contains("method=\"post\""))
            #expect(browser.cookies["devidp-session"] != nil)
            let done = try await browser.send(fixture.issuer + "/end_session", form: [("confirm", "yes")])
            #expect(done.status == 200)
            #expect(done.body.contains("signed out"))
            #expect(browser.cookies["devidp-session"] == nil)
        }
    }

    @Test func signingOutAtTheIdPSendsAValidLogoutToken() async throws {
        try await LogoutReceiver.with { receiverURL, tokens in
            try await IdPFixture.with(configure: { $0.clients = IdPFixture.clients(backchannelLogoutURI: receiverURL) }) {
                fixture in
                let client = try fixture.client()
                let browser = TestBrowser()
                let login = try await fixture.logIn(client, browser: browser)
                // The user presses "Sign out" on the IdP's home page.
                _ = try await browser.send(fixture.issuer + "/end_session", form: [])
                var iterator = tokens.makeAsyncIterator()
                let token = try #require(await iterator.next())
                // Signature, iss, aud, exp and iat as for an ID token.
                let validated = try await client.validateIDToken(token, nonce: nil)
                let claims = validated.claims
                #expect(claims.subject == "alice")
                #expect(claims.sessionID == login.identity.sessionID)
                #expect(claims.nonce == nil)
                #expect(claims.all["jti"]?.stringValue?.isEmpty == false)
                #expect(claims.all["events"]?["http://schemas.openid.net/event/backchannel-logout"] == .object([:]))
                let header = try #require(token.split(separator: ".").first.flatMap { Self.base64URL(String($0)) })
                #expect(header.contains("\"typ\":\"logout+jwt\""))
            }
        }
    }

    private static func base64URL(_ text: String) -> String? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) }
    }
}
