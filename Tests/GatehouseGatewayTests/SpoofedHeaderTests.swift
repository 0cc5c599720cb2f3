import Foundation
import Testing

/// Headers a client may send to pose as the gateway or as a proxy in front of it: every
/// `X-Forwarded-*` and `X-Real-IP` count only from `GATEHOUSE_TRUSTED_PROXIES`, and `_`
/// spellings of the fields the gateway owns (which CGI-style upstreams read as the same
/// variable) never pass. Both proxy paths, over real HTTP to an echoing upstream.
@Suite("Spoofed forwarding and identity headers")
struct SpoofedHeaderTests {
    static let forged: [(String, String)] = [
        ("X-Forwarded-Port", "1"), ("X-Forwarded-Prefix", "/admin"), ("X-Forwarded-Ssl", "on"),
        ("X-Forwarded-Uri", "/evil"), ("X-Real-IP", "203.0.113.7"),
        ("X_Forwarded_User", "mallory"), ("X_Forwarded_Email", "mallory@evil.example"),
        ("x_forwarded_groups", "admin"), ("X_Forwarded_For", "203.0.113.8"), ("X_Real_IP", "203.0.113.9"),
        ("X-App_Token", "kept"), ("X-Request-Id", "kept-too"),
    ]

    /// The fields the upstream received for one signed-in request with `forged` added.
    static func upstreamFields(direct: Bool, trusted: Bool) async throws -> [String: [String]] {
        var seen: [String: [String]] = [:]
        var environment = ["GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false"]
        if trusted { environment["GATEHOUSE_TRUSTED_PROXIES"] = "127.0.0.1/32" }
        try await GatewayFixture.with(environment: environment) { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let reply = try await browser.send("GET", "/app", headers: forged)
            #expect(reply.status == 200)
            for pair in try reply.echo().headers {
                guard let name = pair.first?.lowercased(), let value = pair.last else { continue }
                seen[name, default: []].append(value)
            }
        }
        return seen
    }

    @Test(arguments: [true, false])
    func untrustedClientCannotForgeForwardingOrIdentityFields(direct: Bool) async throws {
        let seen = try await Self.upstreamFields(direct: direct, trusted: false)
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
        let seen = try await Self.upstreamFields(direct: direct, trusted: true)
        #expect(seen["x-forwarded-port"] == ["1"])
        #expect(seen["x-forwarded-prefix"] == ["/admin"])
        #expect(seen["x-real-ip"] == ["203.0.113.7"])
        for name in ["x_forwarded_user", "x_forwarded_email", "x_forwarded_groups", "x_forwarded_for", "x_real_ip"] {
            #expect(seen[name] == nil, "\(name) reached the upstream")
        }
        #expect(seen["x-forwarded-email"] == ["alice@example.com"])
    }
}
