import Foundation
import Testing

/// `HEAD` on the gateway's own endpoints: what `GET` would answer, without a body, where `GET`
/// changes nothing; `405` where it would start or finish a login.
@Suite("HEAD on Gatehouse's endpoints")
struct HeadRequestTests {
    @Test func headAnswersLikeGetWithoutSideEffects() async throws {
        try await GatewayFixture.with { fixture in
            let anonymous = fixture.browser()
            let expected: [(String, Int)] = [
                ("/healthz", 200), ("/readyz", 200), ("/oauth2/auth", 401),
                ("/oauth2/userinfo", 401), ("/oauth2/sign_out", 200), ("/oauth2/start", 405), ("/oauth2/callback", 405),
            ]
            for (path, status) in expected {
                let reply = try await anonymous.send("HEAD", path)
                #expect(reply.status == status, "HEAD \(path): \(reply.status)")
                #expect(reply.body.isEmpty, "HEAD \(path) has a body")
            }
            #expect(try await anonymous.send("HEAD", "/oauth2/start").header("allow") == "GET")
            _ = try await fixture.metrics()  // the metrics listener is up
            let metrics = try await GatewayBrowser(baseURL: fixture.metricsURL).send("HEAD", "/metrics")
            #expect(metrics.status == 200 && metrics.body.isEmpty)
            #expect(anonymous.cookies.isEmpty, "HEAD started a login")
            let browser = fixture.browser()
            try await browser.logIn()
            #expect(try await browser.send("HEAD", "/oauth2/auth").status == 202)
            #expect(try await browser.send("HEAD", "/oauth2/userinfo").status == 200)
        }
    }
}
