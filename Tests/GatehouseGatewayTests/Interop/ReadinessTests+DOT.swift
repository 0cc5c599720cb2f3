import Foundation
import Synchronization
import Testing
@testable import GatehouseGateway

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension ReadinessTests {
    /// 50 quick probes over HTTP, at once and one after another, make at most two checks
    /// (each one store query and one metadata lookup) instead of 100.
    @Test func quickProbesOverHTTPCauseAtMostTwoStoreQueries() async throws {
        try await GatewayFixture.with { fixture in
            let started = ContinuousClock.now
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 { group.addTask { try await fixture.browser().send("GET", "/readyz").status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 50))
            for _ in 0..<50 { #expect(try await fixture.browser().send("GET", "/readyz").status == 200) }
            // One check per 2-second window at most: two when the probes take under 2 s, one
            // more for each further window a loaded machine needs (100 without the cache).
            let windows = Int((ContinuousClock.now - started) / .seconds(2)) + 1
            #expect(fixture.gateway.health.readiness.checksStarted <= max(2, windows + 1))
            #expect(fixture.gateway.health.readiness.checksStarted >= 1)
        }
    }
}
