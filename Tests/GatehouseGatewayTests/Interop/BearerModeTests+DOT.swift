import Crypto
import Foundation
import GatehouseGateway
import GatehouseOAuth
import GatehouseTestSupport
import Testing

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension BearerModeTests {
    /// The scenario: sign-out puts the session's ID token in the IdP's end-session URL
    /// (browser history, IdP logs). With bearer mode on, that ID token must open nothing here.
    /// Before, it passed as a bearer until it expired.
    @Test func theIDTokenOfASignOutURLIsRefusedAsABearer() async throws {
        try await GatewayFixture.with(environment: Self.allow) { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let reply = try await browser.send("POST", "/oauth2/sign_out", headers: [("Origin", fixture.baseURL)])
            let location = try #require(reply.header("location").flatMap { URLComponents(string: $0) })
            let idToken = try #require(location.queryItems?.first { $0.name == "id_token_hint" }?.value)
            #expect(location.queryItems?.first { $0.name == "client_id" }?.value == DOT.confidentialClient)
            let attempt = try await fixture.browser().send(
                "GET", "/admin", headers: [("Authorization", "Bearer " + idToken), ("Accept", "application/json")])
            #expect(attempt.status == 401)
            #expect(attempt.header("www-authenticate") == "Bearer error=\"invalid_token\"")
            #expect(attempt.body.contains("at+jwt"))
        }
    }
}
