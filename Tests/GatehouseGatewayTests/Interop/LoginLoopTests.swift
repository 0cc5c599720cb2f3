import Foundation
import GatehouseTestSupport
import Testing

/// A browser whose sign-ins keep bouncing back to sign in is stopped with a diagnostic page
/// (DESIGN §3); parallel starts are not a loop.
@Suite("Gateway redirect-loop guard")
struct LoginLoopTests {
    /// The loop an application causes when it sends signed-in users back to sign in: every
    /// round is a complete, real login that bounces straight back to `/oauth2/start`; the
    /// eleventh bounce in two minutes (the twelfth start) is refused.
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

    /// Starts alone are never a loop: a browser restoring many tabs starts many logins at
    /// once, and a user may click "sign in" again and again. Before, the twelfth start within
    /// two minutes got 508 (and the ninth 429).
    @Test func parallelStartsAreNotALoop() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            for start in 1...40 {
                let reply = try await browser.send("GET", "/oauth2/start?rd=%2Ftab%2F\(start)")
                #expect(reply.status == 302, "start \(start)")
                #expect(reply.header("location")?.hasPrefix(fixture.issuer) == true)
            }
            var callbacks: [URL] = []
            for tab in 0..<8 {
                callbacks.append(try await browser.signInAtIdP(user: "alice", password: "alice-password-1", returnPath: "/tab/\(tab)"))
            }
            for callback in callbacks { #expect(try await browser.send("GET", callback.absoluteString).status == 302) }
            #expect(try await browser.logIn().status == 302)
        }
    }

    /// A start counts only when it follows a completed sign-in within 30 seconds, and each
    /// completion at most once; the counter is a plain cookie, so forged or malformed values
    /// start a new count, never an error.
    @Test func onlyStartsRightAfterACompletedSignInCount() async throws {
        try await GatewayFixture.with { fixture in
            let now = Int(Date().timeIntervalSince1970)
            let notCounted = [
                "", "abc", "11", "11.\(now)", "10.\(now - 5)", "10.\(now - 5).", ".\(now).\(now)", "-5.\(now).\(now)",
                "99999999999999999999.\(now).\(now)", "10.\(now + 3600).0", "1e3.\(now).\(now)", "%31%30.\(now).\(now)",
                "10.\(now - 5).0", "10.\(now - 5).\(now - 31)", "10.\(now - 5).\(now + 60)",
            ]
            for value in notCounted {
                let browser = fixture.browser()
                browser.cookies["__Host-gatehouse-loop"] = value
                let reply = try await browser.send("GET", "/oauth2/start?rd=%2F")
                #expect(reply.status == 302, "\(value)")
                #expect(!reply.headers("set-cookie").contains { $0.hasPrefix("__Host-gatehouse-loop=") }, "\(value)")
            }
            // Ten bounces so far and a sign-in just completed: this start is the eleventh.
            let looping = fixture.browser()
            looping.cookies["__Host-gatehouse-loop"] = "10.\(now - 5).\(now - 2)"
            #expect(try await looping.send("GET", "/oauth2/start?rd=%2F").status == 508)
            // Nine: this one counts (and uses the completion up); the next start does not.
            let counting = fixture.browser()
            counting.cookies["__Host-gatehouse-loop"] = "9.\(now - 5).\(now - 2)"
            #expect(try await counting.send("GET", "/oauth2/start?rd=%2F").status == 302)
            #expect(counting.cookies["__Host-gatehouse-loop"] == "10.\(now - 5).0")
            #expect(try await counting.send("GET", "/oauth2/start?rd=%2F").status == 302)
        }
    }
}
