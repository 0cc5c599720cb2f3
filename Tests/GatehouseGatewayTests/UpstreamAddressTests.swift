import Testing

@testable import GatehouseGateway

/// Which upstream URLs the NIO-level proxy and WebSocket pass-through can reach, and how they
/// are taken apart.
@Suite("Upstream address")
struct UpstreamAddressTests {
    @Test func plainHTTPUpstreams() throws {
        let base = try #require(UpstreamAddress(url: "http://127.0.0.1:8080/base/"))
        #expect(base.host == "127.0.0.1")
        #expect(base.port == 8080)
        #expect(base.authority == "127.0.0.1:8080")
        #expect(base.basePath == "/base")
        let defaultPort = try #require(UpstreamAddress(url: "HTTP://app.internal"))
        #expect(defaultPort.host == "app.internal")
        #expect(defaultPort.port == 80)
        #expect(defaultPort.basePath == "")
        let ipv6 = try #require(UpstreamAddress(url: "http://[::1]:9000"))
        #expect(ipv6.host == "::1")
        #expect(ipv6.port == 9000)
        #expect(ipv6.authority == "[::1]:9000")
    }

    @Test func unusableUpstreams() {
        for url in ["https://app.internal", "http://", "http://:80", "http://host:0", "http://host:70000", "http://host:x", "ws://host"] {
            #expect(UpstreamAddress(url: url) == nil, "\(url)")
        }
    }
}
