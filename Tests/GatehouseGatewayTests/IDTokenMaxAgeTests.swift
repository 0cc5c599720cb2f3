import Foundation
import GatehouseGateway
import Testing

/// `GATEHOUSE_ID_TOKEN_MAX_AGE`: how long ago a login's ID token may have been issued (`iat`,
/// OIDC Core §3.1.3.7 step 10); the refusal itself is tested in IDTokenFreshnessTests.
@Suite("Gateway ID token max age")
struct IDTokenMaxAgeTests {
    static let base = [
        "GATEHOUSE_ISSUER": "https://idp.example", "GATEHOUSE_CLIENT_ID": "c",
        "GATEHOUSE_UPSTREAM": "http://127.0.0.1:1", "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
    ]

    static func load(_ value: String) async throws -> GatewayConfiguration {
        try await GatewayConfiguration.load(environment: base.merging(["GATEHOUSE_ID_TOKEN_MAX_AGE": value]) { $1 })
    }

    @Test func theSettingIsParsedAndDefaultsToTenMinutes() async throws {
        #expect(try await GatewayConfiguration.load(environment: Self.base).idTokenMaxAge == .seconds(600))
        #expect(try await Self.load("5m").idTokenMaxAge == .seconds(300))
        #expect(try await Self.load("90s").idTokenMaxAge == .seconds(90))
        for bad in ["ten minutes", "0s", "-5m"] {
            await #expect("\(bad)") {
                try await Self.load(bad)
            } throws: { ($0 as? ConfigurationError)?.variable == "GATEHOUSE_ID_TOKEN_MAX_AGE" }
        }
    }
}
