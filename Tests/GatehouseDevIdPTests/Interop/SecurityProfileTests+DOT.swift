import Foundation
import GatehouseDevIdP
import GatehouseOAuth
import GatehouseTestSupport
import Testing

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension SecurityProfileTests {
    /// django-oauth-toolkit (a real provider without PAR or DPoP) falls short, and says how.
    @Test func aProviderWithoutPARAndDPoPFallsShort() async throws {
        let client = try OAuthClient(
            provider: .oidc(issuer: try DOT.issuer()),
            configuration: OAuthClient.Configuration(clientID: "x", authentication: .none, redirectURI: DOT.redirectURI))
        let missing = SecurityProfile.fapi2.shortcomings(of: try await client.metadata(), clientAlgorithm: "PS256")
        #expect(missing.contains("no pushed_authorization_request_endpoint"), "\(missing)")
        #expect(missing.contains("dpop_signing_alg_values_supported lacks ES256"), "\(missing)")
    }
}
