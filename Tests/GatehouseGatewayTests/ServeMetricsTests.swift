import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Testing

/// `/metrics` of `gatehouse serve` (a child process, so that swift-metrics is bootstrapped as
/// in production) on `GATEHOUSE_METRICS_LISTEN`: the library's counters and the gateway's own
/// series side by side. On the main listener `/metrics` is a path like any other.
@Suite("gatehouse serve metrics")
struct ServeMetricsTests {
    /// `GET /metrics` at `baseURL`, waiting (at most 5 s) for the listener to accept.
    static func scrape(_ baseURL: String) async throws -> GatewayBrowser.Reply {
        let started = ContinuousClock.now
        while true {
            do {
                return try await GatewayBrowser(baseURL: baseURL).send("GET", "/metrics")
            } catch where ContinuousClock.now - started < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func metricsListenIsCheckedAtStartUp() async throws {
        for bad in ["9090", "127.0.0.1:99999", "127.0.0.1:4180"] {
            var environment = ConfigurationTests.minimal
            environment["GATEHOUSE_METRICS_LISTEN"] = bad
            let error = await #expect(throws: ConfigurationError.self, "\(bad)") {
                try await GatewayConfiguration.load(environment: environment)
            }
            #expect(error?.variable == "GATEHOUSE_METRICS_LISTEN")
        }
        var environment = ConfigurationTests.minimal
        environment["GATEHOUSE_METRICS_LISTEN"] = "0.0.0.0:9090"
        let listen = try await GatewayConfiguration.load(environment: environment).metricsListen
        #expect(listen?.host == "0.0.0.0" && listen?.port == 9090)
        #expect(try await GatewayConfiguration.load(environment: ConfigurationTests.minimal).metricsListen == nil)
    }
}
