import AsyncHTTPClient
import Foundation
import GatehouseTestSupport
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import GatehouseGateway

/// `GatewayConfiguration.clientTimeout` and `.minimumBodyRate` (``ClientReadTimeout``): a
/// client that keeps the gateway waiting for a request, or trickles its body, is disconnected;
/// one waiting for a slow answer, or uploading fast into a slow upstream, is not.
@Suite("Client read timeout")
struct ClientTimeoutTests {
    // MARK: Minimum body rate

    /// `GATEHOUSE_MIN_BODY_RATE` / `_WINDOW`: default 1024 B/s over 30 s, `0` turns it off, and
    /// a bad value stops start-up naming the variable.
    @Test func bodyRateSettings() async throws {
        let defaults = try await GatewayConfiguration.load(environment: ConfigurationTests.minimal)
        #expect(defaults.minimumBodyRate == MinimumBodyRate(bytesPerSecond: 1024, window: .seconds(30)))
        var environment = ConfigurationTests.minimal
        environment["GATEHOUSE_MIN_BODY_RATE"] = "4096"
        environment["GATEHOUSE_MIN_BODY_RATE_WINDOW"] = "10s"
        let set = try await GatewayConfiguration.load(environment: environment)
        #expect(set.minimumBodyRate == MinimumBodyRate(bytesPerSecond: 4096, window: .seconds(10)))
        environment["GATEHOUSE_MIN_BODY_RATE"] = "0"
        #expect(try await GatewayConfiguration.load(environment: environment).minimumBodyRate == nil)
        for (name, value) in [
            ("GATEHOUSE_MIN_BODY_RATE", "-1"), ("GATEHOUSE_MIN_BODY_RATE", "1k"),
            ("GATEHOUSE_MIN_BODY_RATE_WINDOW", "0s"), ("GATEHOUSE_MIN_BODY_RATE_WINDOW", "soon"),
        ] {
            var bad = ConfigurationTests.minimal
            bad[name] = value
            await #expect {
                _ = try await GatewayConfiguration.load(environment: bad)
            } throws: { error in
                (error as? ConfigurationError)?.variable == name
            }
        }
    }

    /// The meter: each window is judged alone, on the client's time only (the clock stops
    /// while the gateway is not asking for more).
    @Test func meterJudgesEachWindowInTheClientsTime() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        func at(_ milliseconds: Int64) -> NIODeadline { start + .milliseconds(milliseconds) }
        var meter = MinimumBodyRate.Meter(MinimumBodyRate(bytesPerSecond: 1000, window: .seconds(1)))
        #expect(meter.required == 1000)
        meter.waiting(now: at(0))
        #expect(meter.windowEnd(now: at(0)) == at(1000))
        #expect(meter.check(now: at(500)) == .running)
        meter.received(600, now: at(500))
        // The gateway's turn: 4.5 s of backpressure do not count.
        #expect(meter.windowEnd(now: at(5000)) == nil)
        #expect(meter.check(now: at(5000)) == .running)
        meter.waiting(now: at(5000))
        #expect(meter.windowEnd(now: at(5000)) == at(5500))
        meter.received(300, now: at(5400))
        meter.waiting(now: at(5400))
        #expect(meter.check(now: at(5500)) == .tooSlow(received: 900, required: 1000))

        // Enough in one window passes it and starts the next from zero: a fast start buys nothing.
        var fast = MinimumBodyRate.Meter(MinimumBodyRate(bytesPerSecond: 1000, window: .seconds(1)))
        fast.waiting(now: at(0))
        fast.received(1_000_000, now: at(10))
        fast.waiting(now: at(10))
        #expect(fast.check(now: at(1000)) == .passed)
        #expect(fast.windowEnd(now: at(1000)) == at(2000))
        fast.received(1, now: at(1500))
        fast.waiting(now: at(1500))
        #expect(fast.check(now: at(2000)) == .tooSlow(received: 1, required: 1000))
        #expect(MinimumBodyRate(bytesPerSecond: 1024, window: .milliseconds(500)).bytesPerWindow == 512)
    }
}
