import Foundation
import GatehouseTestSupport
import Testing

/// `/metrics` of `gatehouse serve` (a child process, so that swift-metrics is bootstrapped as
/// in production): the library's counters and the gateway's own series side by side.
@Suite("gatehouse serve metrics")
struct ServeMetricsTests {
    @Test func loginAndProxyCountersAfterARealLogin() async throws {
        try await EchoUpstream.with { upstreamPort in
            let serve = try await ServeProcess(upstreamPort: upstreamPort, environment: ["GATEHOUSE_COOKIE_SECURE": "false"])
            defer { serve.stop() }
            let browser = GatewayBrowser(baseURL: serve.baseURL)
            #expect(try await browser.logIn().status == 302)
            #expect(try await browser.send("GET", "/hello").status == 200)
            #expect(try await browser.send("GET", "/oauth2/callback?state=forged&code=x").status == 400)
            let metrics = try await GatewayBrowser(baseURL: serve.baseURL).send("GET", "/metrics").body
            func value(_ series: String) -> Double? { PrometheusText.value(of: series, in: metrics) }
            #expect(value(#"gatehouse_logins_total{result="started"}"#) == 1)
            #expect(value(#"gatehouse_logins_total{result="succeeded"}"#) == 1)
            #expect(value(#"gatehouse_logins_total{result="unknown_state"}"#) == 1)
            #expect(value(#"gatehouse_http_requests_total{route="proxy",status="200"}"#) == 1)
            #expect(value(#"gatehouse_http_requests_total{route="/oauth2/callback",status="400"}"#) == 1)
            #expect(value("gatehouse_active_sessions") == 1)
            #expect(metrics.contains("# TYPE gatehouse_upstream_duration_seconds histogram"))
        }
    }
}
