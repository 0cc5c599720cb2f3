import Foundation
import GatehouseGateway
import GatehouseOAuth
import GatehouseTestSupport
import Logging

/// A gateway (SQLite in a temporary directory, a fresh key) in front of an ``EchoUpstream``,
/// configured for the django-oauth-toolkit test client, on 127.0.0.1.
struct GatewayFixture: Sendable {
    /// `http://127.0.0.1:PORT`, the gateway's public URL.
    let baseURL: String
    let issuer: String
    let gateway: Gateway
    /// The echo upstream's port (for a second proxy, such as nginx, in front of it).
    let upstreamPort: Int
    /// `http://127.0.0.1:PORT` of `GATEHOUSE_METRICS_LISTEN` (set unless a test replaces it).
    let metricsURL: String

    /// `GET /metrics` on the metrics listener. It starts beside the main listener, so the
    /// first scrape waits (at most 5 s) until it accepts connections.
    func metrics() async throws -> GatewayBrowser.Reply {
        let started = ContinuousClock.now
        while true {
            do {
                return try await GatewayBrowser(baseURL: metricsURL).send("GET", "/metrics")
            } catch where ContinuousClock.now - started < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// A new browser (cookie jar) for this gateway.
    func browser() -> GatewayBrowser { GatewayBrowser(baseURL: baseURL) }

    /// Runs `body` with a gateway and its upstream. `environment` adds or replaces
    /// `GATEHOUSE_*` variables; `upstreamDown` points the gateway at a closed port;
    /// `configure` changes what no variable sets.
    static func with(
        environment extra: [String: String] = [:],
        upstreamDown: Bool = false,
        configure: (inout GatewayConfiguration) -> Void = { _ in },
        _ body: (GatewayFixture) async throws -> Void
    ) async throws {
        let issuer = try DOT.issuer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-gateway-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await EchoUpstream.with { upstreamPort in
            let port = try TestServer.freePort()
            let metricsPort = try TestServer.freePort()
            // Port 9 (discard) is below the ephemeral range, so no parallel test's server can
            // be listening there; a "free" ephemeral port could be taken by one meanwhile.
            let upstream = upstreamDown ? 9 : upstreamPort
            var environment = [
                "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
                "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                "GATEHOUSE_ISSUER": issuer,
                "GATEHOUSE_CLIENT_ID": DOT.confidentialClient,
                "GATEHOUSE_CLIENT_SECRET": DOT.secret,
                "GATEHOUSE_SCOPES": "openid email profile groups",
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream)",
                "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                "GATEHOUSE_ENCRYPTION_KEYS": Self.randomKey(),
                "GATEHOUSE_METRICS_LISTEN": "127.0.0.1:\(metricsPort)",
            ]
            environment.merge(extra) { $1 }
            var configuration = try await GatewayConfiguration.load(environment: environment)
            configure(&configuration)
            var logger = Logger(label: "gatehouse.test")
            logger.logLevel = .warning
            let gateway = try Gateway(
                configuration: configuration,
                endpointOverrides: .init(revocationEndpoint: issuer + "/revoke_token/"), logger: logger)
            try await TestServer.run({ onRunning in gateway.application(onServerRunning: onRunning) }) { _ in
                try await body(
                    GatewayFixture(
                        baseURL: "http://127.0.0.1:\(port)", issuer: issuer, gateway: gateway, upstreamPort: upstreamPort,
                        metricsURL: "http://127.0.0.1:\(metricsPort)"))
            }
        }
    }

    static func randomKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }
}
