import Foundation
import GatehouseGateway
import GatehouseTestSupport
import Testing

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension ServeMetricsTests {
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
}
