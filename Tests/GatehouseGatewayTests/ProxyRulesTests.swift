import GatehouseGateway
import Testing

/// Skip-auth prefix matching and trusted-proxy ranges.
@Suite("Proxy rules")
struct ProxyRulesTests {
    @Test func skipAuthRoutes() throws {
        let routes = try SkipAuthRoutes(parsing: ["/public", "/static/css/"])
        for path in ["/public", "/public/", "/public/a/b", "/static/css/a.css"] {
            #expect(routes.matches(path), "\(path)")
        }
        // Dot segments and leading `//` are refused before matching (RequestTarget), so the
        // paths that once matched after normalising (`//public/a`, `/./public/x`,
        // `/x/../public/y`) match nothing: the path matched is the path forwarded.
        for path in [
            "/", "/publicity", "/Public", "/public/../admin", "/public/%2E%2E/admin", "/public%2Fadmin",
            "/public/..;/admin", "/public/a%5C..%5C..%5Cadmin", "/public/%zz", "/static/cssx", "/static",
            "//public/a", "/./public/x", "/x/../public/y",
        ] {
            #expect(!routes.matches(path), "\(path)")
        }
    }

    @Test func trustedProxies() throws {
        let proxies = try TrustedProxies(parsing: ["10.0.0.0/8", "192.168.1.7", "fd00::/8"])
        #expect(proxies.trusts("10.1.2.3"))
        #expect(proxies.trusts("192.168.1.7"))
        #expect(!proxies.trusts("192.168.1.8"))
        #expect(proxies.trusts("fd12::1"))
        #expect(proxies.trusts("::ffff:10.9.9.9"))
        #expect(!proxies.trusts("11.0.0.1"))
        #expect(!proxies.trusts(nil))
        #expect(!proxies.trusts("garbage"))
        #expect(try !TrustedProxies(parsing: []).trusts("127.0.0.1"))
    }
}
