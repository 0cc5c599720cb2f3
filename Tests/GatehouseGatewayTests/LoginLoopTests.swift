import Foundation
import GatehouseTestSupport
import Testing

/// A browser sent to sign in over and over is stopped with a diagnostic page (DESIGN §3).
@Suite("Gateway redirect-loop guard")
struct LoginLoopTests {
    /// The loop an application causes when it sends signed-in users back to sign in: every
    /// round is a complete, real login; the 12th start in two minutes is refused.
    @Test func loopOfCompletedLoginsEndsOnADiagnosticPage() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            for round in 1...11 {
                #expect(try await browser.logIn(returnPath: "/app").status == 302, "round \(round)")
            }
            let loop = try await browser.send("GET", "/oauth2/start?rd=%2Fapp", headers: [("Accept", "text/html")])
            #expect(loop.status == 508)
            #expect(loop.header("content-type")?.hasPrefix("text/html") == true)
            #expect(loop.body.contains("redirect_loop"))
            #expect(loop.body.contains("Sign-in keeps restarting"))
            #expect(loop.body.contains("/oauth2/start?rd=%2Fapp"))
            #expect(loop.header("location") == nil)
            // The count starts over: "Try again" works, and the session already held is kept.
            #expect(browser.cookies["__Host-gatehouse-loop"] == nil)
            #expect(try await browser.send("GET", "/oauth2/start?rd=%2Fapp").status == 302)
            let echo = try await browser.send("GET", "/app").echo()
            #expect(echo.value("X-Forwarded-User") != nil)
            #expect(echo.value("Cookie") == nil, "Gatehouse's cookies, the loop counter included, stay out")
            let metrics = try await fixture.metrics()
            #expect(metrics.status == 200)
        }
    }

    /// Many tabs signing in at once are not a loop: the threshold stays above the logins a
    /// browser may have in flight.
    @Test func parallelTabsAreNotALoop() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            var callbacks: [URL] = []
            for tab in 0..<8 { callbacks.append(try await browser.signInAtIdP(user: "alice", password: "alice-password-1", returnPath: "/tab/\(tab)")) }
            for callback in callbacks { #expect(try await browser.send("GET", callback.absoluteString).status == 302) }
            #expect(try await browser.logIn().status == 302)
        }
    }

    /// The counter is a plain cookie: forged or malformed values start a new count, never an
    /// error.
    @Test func malformedCounterValuesStartOver() async throws {
        try await GatewayFixture.with { fixture in
            let now = Int(Date().timeIntervalSince1970)
            let values = [
                "", "abc", "11", "11.", ".\(now)", "-5.\(now)", "11.-1", "99999999999999999999.\(now)", "11.\(now + 3600)",
                "11.\(now - 121)", "11.\(now).1", "1e3.\(now)", "%31%31.\(now)",
            ]
            for value in values {
                let browser = fixture.browser()
                browser.cookies["__Host-gatehouse-loop"] = value
                let reply = try await browser.send("GET", "/oauth2/start?rd=%2F")
                #expect(reply.status == 302, "\(value)")
                #expect(browser.cookies["__Host-gatehouse-loop"]?.hasPrefix("1.") == true, "\(value)")
            }
            let looping = fixture.browser()
            looping.cookies["__Host-gatehouse-loop"] = "11.\(now - 5)"
            #expect(try await looping.send("GET", "/oauth2/start?rd=%2F").status == 508)
        }
    }
}
