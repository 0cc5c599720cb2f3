import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Testing

/// Caps on logins in flight (issue 10, "pre-auth floods"): cookie-less `/oauth2/start`
/// floods are refused with `429` per client address and globally, while one browser with
/// many tabs is always sent to the IdP (its oldest login given up, cookies bounded).
@Suite("Gateway caps on logins in flight")
struct PendingLoginLimitTests {
    static let start = "/oauth2/start?rd=%2Fapp"

    /// The two settings: defaults, values, and errors naming the variable.
    @Test func settingsAreReadAndChecked() async throws {
        let defaults = try await GatewayConfiguration.load(environment: ConfigurationTests.minimal)
        #expect(defaults.maxPendingLogins == 100_000 && defaults.maxPendingLoginsPerClient == 300)
        #expect(defaults.authSettings.pendingLimits.maxPending == 100_000)
        var environment = ConfigurationTests.minimal
        environment["GATEHOUSE_MAX_PENDING_LOGINS"] = "5000"
        environment["GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT"] = "20"
        let set = try await GatewayConfiguration.load(environment: environment)
        #expect(set.authSettings.pendingLimits.maxPending == 5000)
        #expect(set.authSettings.pendingLimits.maxPendingPerClient == 20)
        for (variable, value) in [
            ("GATEHOUSE_MAX_PENDING_LOGINS", "0"), ("GATEHOUSE_MAX_PENDING_LOGINS", "lots"),
            ("GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT", "-1"), ("GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT", "1.5"),
        ] {
            var bad = ConfigurationTests.minimal
            bad[variable] = value
            await #expect(throws: ConfigurationError.self, "\(variable)=\(value)") {
                do {
                    _ = try await GatewayConfiguration.load(environment: bad)
                } catch let error as ConfigurationError {
                    #expect(error.variable == variable)
                    throw error
                }
            }
        }
    }
}
