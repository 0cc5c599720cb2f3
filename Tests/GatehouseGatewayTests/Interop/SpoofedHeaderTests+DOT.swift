import Foundation
import GatehouseHummingbird
import Testing
@testable import GatehouseGateway

/// The cases that need django-oauth-toolkit (scripts/test.sh starts it): interop tests, which
/// join only with GATEHOUSE_INTEROP_TESTS=1 (Package.swift).
extension SpoofedHeaderTests {
    @Test(arguments: [true, false])
    func untrustedClientCannotForgeForwardingOrIdentityFields(direct: Bool) async throws {
        let seen = try await Self.upstreamFields(direct: direct, trusted: false).fields
        for name in ["x-forwarded-port", "x-forwarded-prefix", "x-forwarded-ssl", "x-forwarded-uri", "x-real-ip"] {
            #expect(seen[name] == nil, "\(name) reached the upstream: \(seen[name] ?? [])")
        }
        for name in ["x_forwarded_user", "x_forwarded_email", "x_forwarded_groups", "x_forwarded_for", "x_real_ip"] {
            #expect(seen[name] == nil, "\(name) reached the upstream")
        }
        #expect(seen["x-forwarded-user"]?.count == 1 && seen["x-forwarded-user"] != ["mallory"])
        #expect(seen["x-forwarded-email"] == ["alice@example.com"])
        #expect(seen["x-forwarded-for"] == ["127.0.0.1"])
        // Application fields, with or without `_`, are the app's business.
        #expect(seen["x-app_token"] == ["kept"])
        #expect(seen["x-request-id"] == ["kept-too"])
    }

    @Test(arguments: [true, false])
    func trustedProxyKeepsItsForwardingFieldsButNotUnderscoreAliases(direct: Bool) async throws {
        let seen = try await Self.upstreamFields(direct: direct, trusted: true).fields
        #expect(seen["x-forwarded-port"] == ["1"])
        #expect(seen["x-forwarded-prefix"] == ["/admin"])
        #expect(seen["x-real-ip"] == ["203.0.113.7"])
        for name in ["x_forwarded_user", "x_forwarded_email", "x_forwarded_groups", "x_forwarded_for", "x_real_ip"] {
            #expect(seen[name] == nil, "\(name) reached the upstream")
        }
        #expect(seen["x-forwarded-email"] == ["alice@example.com"])
    }

    /// Other auth proxies' identity fields never pass, not even from a trusted proxy (it
    /// vouches for the network path, not for a user); client addresses pass only from one.
    @Test(arguments: [true, false], [true, false])
    func otherProxiesIdentityNeverPassesAndClientAddressesOnlyFromTrustedProxies(direct: Bool, trusted: Bool)
        async throws
    {
        let headers = Self.otherProxiesIdentity + Self.clientAddresses + [("X-Request-Id", "kept")]
        let seen = try await Self.upstreamFields(direct: direct, trusted: trusted, headers: headers).fields
        for (name, _) in Self.otherProxiesIdentity where name != "X-Forwarded-Provider" {
            #expect(seen[name.lowercased()] == nil, "\(name) reached the upstream: \(seen[name.lowercased()] ?? [])")
        }
        // The gateway's own: the session's provider, never the client's "evil".
        #expect(seen["x-forwarded-provider"] == ["default"])
        for (name, value) in Self.clientAddresses {
            #expect(seen[name.lowercased()] == (trusted ? [value] : nil), "\(name): \(seen[name.lowercased()] ?? [])")
        }
        #expect(seen["x-request-id"] == ["kept"])
        #expect(seen["x-forwarded-user"]?.count == 1)
        #expect(seen["x-forwarded-email"] == ["alice@example.com"])
    }

    /// `X-Forwarded-Host` is the public URL's host, whatever `Host` a client sends; a trusted
    /// proxy's `X-Forwarded-Host` is kept.
    @Test(arguments: [true, false], [true, false])
    func forwardedHostIsThePublicHostUnlessATrustedProxyStatesOne(direct: Bool, trusted: Bool) async throws {
        let (seen, publicHost) = try await Self.upstreamFields(
            direct: direct, trusted: trusted, headers: [("Host", "evil.example")])
        #expect(seen["x-forwarded-host"] == [publicHost])
        let stated = try await Self.upstreamFields(
            direct: direct, trusted: trusted, headers: [("Host", "evil.example"), ("X-Forwarded-Host", "app.example")])
        #expect(stated.fields["x-forwarded-host"] == [trusted ? "app.example" : stated.publicHost])
    }

    /// `GATEHOUSE_STRIP_REQUEST_HEADERS`: listed fields never pass, in any letter case or
    /// `_` spelling, from anyone.
    @Test(arguments: [true, false])
    func configuredFieldsAreStripped(direct: Bool) async throws {
        let seen = try await Self.upstreamFields(
            direct: direct, trusted: true,
            headers: [
                ("X-Internal-Debug", "1"), ("X_INTERNAL_DEBUG", "2"), ("x-tenant-id", "other"), ("X-Request-Id", "kept"),
            ],
            environment: ["GATEHOUSE_STRIP_REQUEST_HEADERS": "X-Internal-Debug, X-Tenant-ID"]
        ).fields
        for name in ["x-internal-debug", "x_internal_debug", "x-tenant-id"] {
            #expect(seen[name] == nil, "\(name) reached the upstream")
        }
        #expect(seen["x-request-id"] == ["kept"])
    }

    /// The fields the upstream received for one signed-in request with `headers` added, and
    /// whether it went by the direct path.
    static func upstreamFields(
        direct: Bool, trusted: Bool, headers: [(String, String)] = forged, environment extra: [String: String] = [:]
    ) async throws -> (fields: [String: [String]], publicHost: String) {
        var seen: [String: [String]] = [:]
        var publicHost = ""
        var environment = ["GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false"].merging(extra) { $1 }
        if trusted { environment["GATEHOUSE_TRUSTED_PROXIES"] = "127.0.0.1/32" }
        try await GatewayFixture.with(environment: environment) { fixture in
            publicHost = fixture.baseURL.replacingOccurrences(of: "http://", with: "")
            let browser = fixture.browser()
            try await browser.logIn()
            let reply = try await browser.send("GET", "/app", headers: headers)
            #expect(reply.status == 200)
            for pair in try reply.echo().headers {
                guard let name = pair.first?.lowercased(), let value = pair.last else { continue }
                seen[name, default: []].append(value)
            }
            // The path the test meant to cover was taken.
            let metrics = try await fixture.metrics().body
            let series = #"gatehouse_proxied_requests_total{path="\#(direct ? "direct" : "router")"}"#
            #expect((PrometheusText.value(of: series, in: metrics) ?? 0) >= 1, "\(series)")
        }
        return (seen, publicHost)
    }
}
