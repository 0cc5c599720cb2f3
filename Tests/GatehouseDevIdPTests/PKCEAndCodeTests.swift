import Foundation
import GatehouseTesting
import GatehouseOAuth
import Testing

/// One negative test per rule of the authorization and token endpoints.
@Suite("Dev IdP PKCE and codes")
struct PKCEAndCodeTests {
    private func exchange(
        _ fixture: IdPFixture, code: String, verifier: String?, redirectURI: String = IdPFixture.redirectURI
    ) async throws -> (status: Int, json: [String: String]) {
        var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)]
        if let verifier { form.append(("code_verifier", verifier)) }
        return try await fixture.tokenRequest(form)
    }

    @Test func aMissingVerifierIsInvalidGrant() async throws {
        try await IdPFixture.with { fixture in
            let (code, _) = try await fixture.code(try fixture.client())
            let reply = try await exchange(fixture, code: code, verifier: nil)
            #expect(reply.status == 400)
            #expect(reply.json["error"] == "invalid_grant")
        }
    }

    @Test func aWrongVerifierIsInvalidGrantAndSpendsTheCode() async throws {
        try await IdPFixture.with { fixture in
            let (code, pending) = try await fixture.code(try fixture.client())
            let wrong = String(repeating: "a", count: 43)
            #expect(try await exchange(fixture, code: code, verifier: wrong).json["error"] == "invalid_grant")
            // The code is single use even after a failed attempt (no guessing the verifier).
            #expect(try await exchange(fixture, code: code, verifier: pending.codeVerifier).json["error"] == "invalid_grant")
        }
    }

    @Test func aDifferentRedirectURIIsInvalidGrant() async throws {
        try await IdPFixture.with { fixture in
            let (code, pending) = try await fixture.code(try fixture.client())
            let reply = try await exchange(
                fixture, code: code, verifier: pending.codeVerifier, redirectURI: "http://127.0.0.1:9/other")
            #expect(reply.json["error"] == "invalid_grant")
        }
    }

    @Test func aCodeUsedTwiceIsRefusedAndItsTokensRevoked() async throws {
        try await IdPFixture.with { fixture in
            let client = try fixture.client()
            let (code, pending) = try await fixture.code(client)
            let first = try await exchange(fixture, code: code, verifier: pending.codeVerifier)
            #expect(first.status == 200)
            let accessToken = try #require(first.json["access_token"])
            _ = try await client.userInfo(accessToken: accessToken, subject: "alice")
            let second = try await exchange(fixture, code: code, verifier: pending.codeVerifier)
            #expect(second.json["error"] == "invalid_grant")
            await #expect(throws: OAuthError.self) { try await client.userInfo(accessToken: accessToken, subject: nil) }
        }
    }

    @Test func anotherClientCannotRedeemTheCode() async throws {
        try await IdPFixture.with { fixture in
            let (code, pending) = try await fixture.code(try fixture.client())
            let reply = try await fixture.tokenRequest(
                [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", IdPFixture.redirectURI),
                    ("code_verifier", pending.codeVerifier),
                ], clientID: "es-client", secret: "es-secret")
            #expect(reply.json["error"] == "invalid_grant")
        }
    }

    @Test func aWrongSecretIsInvalidClient() async throws {
        try await IdPFixture.with { fixture in
            let reply = try await fixture.tokenRequest([("grant_type", "refresh_token"), ("refresh_token", "x")], secret: "nope")
            #expect(reply.status == 401)
            #expect(reply.json["error"] == "invalid_client")
        }
    }

    @Test func anAuthorizationRequestWithoutPKCEIsRefusedWithIssAndState() async throws {
        try await IdPFixture.with { fixture in
            let url = fixture.issuer + "/authorize?response_type=code&client_id=rs-client&scope=openid&state=s1"
                + "&redirect_uri=" + TestBrowser.encode([("", IdPFixture.redirectURI)]).dropFirst()
            for suffix in ["", "&code_challenge=abc&code_challenge_method=plain"] {
                let reply = try await TestBrowser().send(url + suffix)
                #expect(reply.status == 302)
                let location = try #require(reply.location.flatMap(URL.init(string:)))
                #expect(location.absoluteString.hasPrefix(IdPFixture.redirectURI))
                let query = TestBrowser.query(location)
                #expect(query["error"] == "invalid_request")
                #expect(query["state"] == "s1")
                #expect(query["iss"] == fixture.issuer)
            }
        }
    }

    @Test func anUnregisteredRedirectURIIsNeverRedirectedTo() async throws {
        try await IdPFixture.with { fixture in
            let request = try await fixture.client().authorizationRequest()
            let evil = request.url.absoluteString.replacingOccurrences(
                of: "127.0.0.1%3A9%2Fcallback", with: "evil.example%2Fcallback")
            #expect(evil != request.url.absoluteString)
            let reply = try await TestBrowser().send(evil)
            #expect(reply.status == 400)
            #expect(reply.location == nil)
        }
    }

    @Test func anExpiredCodeIsInvalidGrant() async throws {
        let clock = ManualClock()
        try await IdPFixture.with(clock: clock) { fixture in
            let (code, pending) = try await fixture.code(try fixture.client())
            clock.advance(by: 61)
            let reply = try await exchange(fixture, code: code, verifier: pending.codeVerifier)
            #expect(reply.json["error"] == "invalid_grant")
            #expect(reply.json["error_description"]?.contains("expired") == true)
        }
    }
}
