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

    @Test func loginAndProxyCountersAfterARealLogin() async throws {
        try await EchoUpstream.with { upstreamPort in
            let metricsURL = "http://127.0.0.1:\(try TestServer.freePort())"
            let serve = try await ServeProcess(
                upstreamPort: upstreamPort,
                environment: [
                    "GATEHOUSE_COOKIE_SECURE": "false",
                    "GATEHOUSE_METRICS_LISTEN": metricsURL.replacingOccurrences(of: "http://", with: ""),
                ])
            defer { serve.stop() }
            let browser = GatewayBrowser(baseURL: serve.baseURL)
            #expect(try await browser.logIn().status == 302)
            #expect(try await browser.send("GET", "/hello").status == 200)
            #expect(try await browser.send("GET", "/oauth2/callback?state=forged&code=x").status == 400)
            let scrape = try await Self.scrape(metricsURL)
            #expect(scrape.status == 200)
            let metrics = scrape.body
            func value(_ series: String) -> Double? { PrometheusText.value(of: series, in: metrics) }
            #expect(value(#"gatehouse_logins_total{result="started"}"#) == 1)
            #expect(value(#"gatehouse_logins_total{result="succeeded"}"#) == 1)
            #expect(value(#"gatehouse_logins_total{result="unknown_state"}"#) == 1)
            #expect(value(#"gatehouse_http_requests_total{route="proxy",status="200"}"#) == 1)
            #expect(value(#"gatehouse_http_requests_total{route="/oauth2/callback",status="400"}"#) == 1)
            #expect(value("gatehouse_active_sessions") == 1)
            #expect(metrics.contains("# TYPE gatehouse_upstream_duration_seconds histogram"))
            // The metrics listener serves nothing else.
            #expect(try await GatewayBrowser(baseURL: metricsURL).send("GET", "/healthz").status == 404)
            // The main listener proxies /metrics after admission, as any other path.
            #expect(try await GatewayBrowser(baseURL: serve.baseURL).send("GET", "/metrics").status == 401)
            let echo = try await browser.send("GET", "/metrics").echo()
            #expect(echo.path == "/metrics")
        }
    }

    /// Without `GATEHOUSE_METRICS_LISTEN` the metrics are served nowhere: `/metrics` on the
    /// main listener is the upstream's.
    @Test func withoutAMetricsListenerMetricsAreNotServed() async throws {
        try await EchoUpstream.with { upstreamPort in
            let serve = try await ServeProcess(upstreamPort: upstreamPort, environment: ["GATEHOUSE_COOKIE_SECURE": "false"])
            defer { serve.stop() }
            let anonymous = try await GatewayBrowser(baseURL: serve.baseURL).send("GET", "/metrics")
            #expect(anonymous.status == 401)
            #expect(!anonymous.body.contains("gatehouse_"))
            let browser = GatewayBrowser(baseURL: serve.baseURL)
            #expect(try await browser.logIn().status == 302)
            let reply = try await browser.send("GET", "/metrics")
            #expect(reply.status == 200)
            #expect(try reply.echo().path == "/metrics")
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
