import Foundation
import Testing

/// `GATEHOUSE_PROXY_CSRF`: proxied unsafe methods made with the session cookie must come from
/// the gateway's own origin; safe methods, non-browser clients and the option off pass.
@Suite("Cross-site check of proxied requests")
struct ProxyCSRFTests {
    @Test(arguments: [true, false])
    func unsafeCrossSiteRequestsAreRefusedWhenAskedFor(direct: Bool) async throws {
        try await GatewayFixture.with(environment: [
            "GATEHOUSE_PROXY_CSRF": "true", "GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false",
            "GATEHOUSE_SKIP_AUTH_ROUTES": "/public",
        ]) { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let own = fixture.baseURL
            // Refused: another origin, a cross-site fetch without Origin, a null origin.
            for headers in [
                [("Origin", "http://evil.example")], [("Origin", own + ".evil.example")],
                [("Sec-Fetch-Site", "cross-site")], [("Sec-Fetch-Site", "same-site")],
                [("Origin", "null"), ("Sec-Fetch-Site", "cross-site")],
            ] {
                for method in ["POST", "PUT", "DELETE", "PATCH"] {
                    let reply = try await browser.send(method, "/api/items", headers: headers, body: "x=1")
                    #expect(reply.status == 403, "\(method) \(headers)")
                    #expect(reply.body.contains("cross_site_request"), "\(method) \(headers)")
                    #expect(!reply.body.contains(#""path""#), "reached the upstream: \(method) \(headers)")
                }
            }
            // A cross-site form post (a navigation) gets the page.
            let form = try await browser.send(
                "POST", "/api/items", headers: [("Origin", "http://evil.example"), ("Sec-Fetch-Mode", "navigate")],
                body: "x=1")
            #expect(form.status == 403)
            #expect(form.header("content-type")?.hasPrefix("text/html") == true)
            // Passed: our own origin, same-origin fetch metadata, a non-browser client, safe methods.
            for headers in [[("Origin", own)], [("Sec-Fetch-Site", "same-origin")], []] {
                let reply = try await browser.send("POST", "/api/items", headers: headers, body: "x=1")
                #expect(reply.status == 200, "\(headers)")
                #expect(try reply.echo().method == "POST")
            }
            let get = try await browser.send("GET", "/api/items", headers: [("Origin", "http://evil.example")])
            #expect(get.status == 200)
            // No session, no check: a skip-auth route is anybody's anyway.
            let anonymous = fixture.browser()
            let open = try await anonymous.send("POST", "/public/form", headers: [("Origin", "http://evil.example")])
            #expect(open.status == 200)
        }
    }

    @Test func offByDefault() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            try await browser.logIn()
            let reply = try await browser.send("POST", "/api/items", headers: [("Origin", "http://evil.example")])
            #expect(reply.status == 200)
            #expect(try reply.echo().method == "POST")
        }
    }
}
