import Foundation
import Testing

/// Only a path is ever appended to the upstream's URL. `CONNECT host:port` (whose target
/// parses as a scheme and a path) once crashed the gateway on an impossible port and, with
/// `a:@host:port/x`, made it connect to another host with the user's identity and token
/// (SSRF). Both paths, with and without a session, and on a skip-auth route.
@Suite("Request targets")
struct RequestTargetTests {
    @Test(arguments: [true, false])
    func connectAndOtherTargetsAreRefusedWithoutReachingAnyServer(direct: Bool) async throws {
        try await RawUpstream.with { upstream in
            try await RawUpstream.with { victim in
                try await GatewayFixture.with(environment: [
                    "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstream.port)", "GATEHOUSE_SKIP_AUTH_ROUTES": "/public",
                    "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false", "GATEHOUSE_PASS_ACCESS_TOKEN": "true",
                ]) { fixture in
                    let port = try #require(URL(string: fixture.baseURL)?.port)
                    let browser = fixture.browser()
                    try await browser.logIn()
                    let name = browser.cookies["__Host-gatehouse"] != nil ? "__Host-gatehouse" : "gatehouse"
                    let cookie = try #require(browser.cookies[name])
                    let before = upstream.accepted
                    let targets = [
                        "CONNECT evil.example:80", "CONNECT a:99999", "CONNECT x:@127.0.0.1:\(victim.port)/internal?a=1",
                        "CONNECT a:@127.0.0.1:\(victim.port)/../public/y", "CONNECT a:99/../public",
                        "GET x:@127.0.0.1:\(victim.port)/internal", "OPTIONS *",
                    ]
                    for target in targets {
                        for withCookie in [true, false] {
                            let request = "\(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
                                + (withCookie ? "Cookie: \(name)=\(cookie)\r\n" : "") + "\r\n"
                            let (responses, closed) = try await RawHTTPClient.exchange(port: port, request, count: 1)
                            if target.hasPrefix("CONNECT") {
                                #expect(closed, "\(target): the connection must close after the answer")
                            }
                            let status = responses.first?.status
                            #expect(status == 400 || (status.map { $0 >= 400 && $0 < 500 } ?? false && !withCookie),
                                "\(target) cookie=\(withCookie): \(status.map(String.init) ?? "no answer")")
                        }
                    }
                    #expect(victim.accepted == 0, "the gateway connected to another host")
                    #expect(upstream.accepted == before, "a refused target reached the upstream")
                    // Still serving.
                    #expect(try await browser.send("GET", "/fine").body == "ok")
                }
            }
        }
    }
}
