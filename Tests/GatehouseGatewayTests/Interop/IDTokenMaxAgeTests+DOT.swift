import Foundation
import GatehouseGateway
import Testing

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension IDTokenMaxAgeTests {
    /// The value reaches the OAuth client that validates the login's ID token, and a login
    /// through django-oauth-toolkit (fresh `iat`) still works with a short one.
    @Test func theGatewaysClientUsesIt() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_ID_TOKEN_MAX_AGE": "2m"]) { fixture in
            #expect(fixture.gateway.auth.client.configuration.idTokenMaxAge == .seconds(120))
            let browser = fixture.browser()
            try await browser.logIn()
            #expect(try await browser.send("GET", "/after-login").status == 200)
        }
    }
}
