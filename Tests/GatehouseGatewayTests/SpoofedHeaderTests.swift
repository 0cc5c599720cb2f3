import Foundation
import GatehouseHummingbird
import Testing

@testable import GatehouseGateway

/// Headers a client may send to pose as the gateway, as another auth proxy, or as a proxy in
/// front of it: every `X-Forwarded-*`, `X-Real-IP` and other client-address field counts only
/// from `GATEHOUSE_TRUSTED_PROXIES`; the identity fields of other auth proxies
/// (`X-Auth-Request-*`, `Remote-*`, …), `GATEHOUSE_STRIP_REQUEST_HEADERS` and the `_`
/// spellings of all those (which CGI-style upstreams read as the same variable) never pass;
/// `X-Forwarded-Host` is the public URL's host unless a trusted proxy states one. Both proxy
/// paths, over real HTTP to an echoing upstream.
@Suite("Spoofed forwarding and identity headers")
struct SpoofedHeaderTests {
    static let forged: [(String, String)] = [
        ("X-Forwarded-Port", "1"), ("X-Forwarded-Prefix", "/admin"), ("X-Forwarded-Ssl", "on"),
        ("X-Forwarded-Uri", "/evil"), ("X-Real-IP", "203.0.113.7"),
        ("X_Forwarded_User", "mallory"), ("X_Forwarded_Email", "mallory@evil.example"),
        ("x_forwarded_groups", "admin"), ("X_Forwarded_For", "203.0.113.8"), ("X_Real_IP", "203.0.113.9"),
        ("X-App_Token", "kept"), ("X-Request-Id", "kept-too"),
    ]

    /// Other auth proxies' identity fields (oauth2-proxy, Authelia/Authentik, Kubernetes,
    /// Kong, Grafana, Google IAP, AWS ALB, Cloudflare Access), some in `_` spelling.
    static let otherProxiesIdentity: [(String, String)] = [
        ("X-Auth-Request-User", "mallory"), ("X-Auth-Request-Email", "mallory@evil.example"),
        ("X-Auth-Request-Groups", "admins"), ("X-Auth-Request-Preferred-Username", "root"),
        ("X-Auth-Request-Access-Token", "forged"), ("Remote-User", "mallory"), ("Remote-Email", "mallory@evil.example"),
        ("Remote-Groups", "admins"), ("Remote-Name", "Mallory"), ("X-Remote-User", "mallory"),
        ("X-Remote-Group", "system:masters"), ("X-Remote-Extra-Scopes", "all"), ("X-Authenticated-User", "mallory"),
        ("X-Forwarded-Access-Token", "forged"), ("X-Forwarded-Provider", "evil"), ("X-Auth-User", "mallory"),
        ("X-WEBAUTH-USER", "admin"), ("X-User", "mallory"), ("X-Email", "mallory@evil.example"),
        ("X-Goog-Authenticated-User-Email", "accounts.google.com:mallory@evil.example"),
        ("X-Amzn-Oidc-Identity", "mallory"), ("Cf-Access-Authenticated-User-Email", "mallory@evil.example"),
        ("X-authentik-username", "akadmin"), ("Remote_User", "mallory"), ("X_Auth_Request_User", "mallory"),
        ("x_remote_user", "mallory"), ("X_Forwarded_Access_Token", "forged"),
    ]

    /// Client addresses and original URLs as CDNs, load balancers and proxies state them.
    static let clientAddresses: [(String, String)] = [
        ("X-Client-IP", "203.0.113.1"), ("True-Client-IP", "203.0.113.2"), ("CF-Connecting-IP", "203.0.113.3"),
        ("Fastly-Client-IP", "203.0.113.4"), ("X-Cluster-Client-IP", "203.0.113.5"),
        ("X-Original-Forwarded-For", "203.0.113.6"), ("Forwarded", "for=203.0.113.7"), ("X-Original-URL", "/admin"),
        ("X-Rewrite-URL", "/admin"),
    ]

    @Test func stripListNamesMustBeFieldNames() async throws {
        var environment = ConfigurationTests.minimal
        environment["GATEHOUSE_STRIP_REQUEST_HEADERS"] = "X-Ok, X Bad"
        let error = await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(environment: environment)
        }
        #expect(error?.variable == "GATEHOUSE_STRIP_REQUEST_HEADERS")
        environment["GATEHOUSE_STRIP_REQUEST_HEADERS"] = "X-Ok,x_other"
        #expect(try await GatewayConfiguration.load(environment: environment).stripRequestHeaders == ["x-ok", "x_other"])
        #expect(try await GatewayConfiguration.load(environment: ConfigurationTests.minimal).stripRequestHeaders.isEmpty)
    }

    /// The tables: every listed name (any letter case, `_` spelling) has its rule, families
    /// are matched by prefix, and every family starts with `x-` (``ProxyHeaders/fullRule(forName:)``
    /// skips the prefix scan for other names).
    @Test func identityAndClientAddressTables() {
        for name in ProxyHeaders.identityNames {
            #expect(ProxyHeaders.fullRule(forName: name.uppercased()) == .identity, "\(name)")
            #expect(ProxyHeaders.isUnderscoreAlias(name.replacingOccurrences(of: "-", with: "_")), "\(name)")
        }
        for name in ProxyHeaders.trustedOnlyNames {
            #expect(ProxyHeaders.fullRule(forName: name) == .trustedOnly, "\(name)")
        }
        for prefix in ProxyHeaders.identityPrefixes {
            #expect(prefix.hasPrefix("x-"))
            #expect(ProxyHeaders.fullRule(forName: prefix + "Anything") == .identity, "\(prefix)")
            #expect(ProxyHeaders.fullRule(forName: String(prefix.dropLast())) == nil, "\(prefix)")
        }
        #expect(ProxyHeaders.fullRule(forName: "X-Forwarded-Anything") == .trustedOnly)
        for kept in ["x-request-id", "x-app_token", "accept", "x-user-agent", "remote", "x-auth-request"] {
            #expect(ProxyHeaders.fullRule(forName: kept) == nil, "\(kept)")
        }
        let table = ProxyHeaders.Settings(stripped: ["x-one", "X_Two"]).stripped
        for name in ["X-ONE", "x_one", "x-two", "X_TWO"] { #expect(table.contains(name), "\(name)") }
        for name in ["x-one-", "x-on", "x-three", ""] { #expect(!table.contains(name), "\(name)") }
        #expect(ProxyHeaders.Settings.none.stripped.isEmpty)
    }
}
