import Foundation
import GatehouseTestSupport
import Testing

/// The callback's refusals: replay, another browser, access rules, junk.
@Suite("Gateway callback")
struct CallbackTests {
    @Test func replayedCallbackIs400() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            let callback = try await browser.signInAtIdP(user: "alice", password: "alice-password-1")
            #expect(try await browser.send("GET", callback.absoluteString).status == 302)
            let replay = fixture.browser()
            replay.cookies = browser.cookies
            let reply = try await replay.send("GET", callback.absoluteString)
            #expect(reply.status == 400)
            #expect(reply.body.contains("unknown_state"))
        }
    }

    @Test func callbackInAnotherBrowserIs400WithoutSession() async throws {
        try await GatewayFixture.with { fixture in
            let victim = fixture.browser()
            let callback = try await fixture.browser().signInAtIdP(user: "alice", password: "alice-password-1")
            let reply = try await victim.send("GET", callback.absoluteString)
            #expect(reply.status == 400)
            #expect(reply.body.contains("browser_binding_mismatch"))
            #expect(victim.cookies["__Host-gatehouse"] == nil)
        }
    }

    @Test func userOutsideAllowedGroupsIs403WithoutSession() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_ALLOWED_GROUPS": "staff"]) { fixture in
            let bob = fixture.browser()
            let reply = try await bob.logIn(user: "bob", password: "bob-password-1")
            #expect(reply.status == 403)
            #expect(reply.body.contains("group_not_allowed"))
            #expect(bob.cookies["__Host-gatehouse"] == nil)
            #expect(try await bob.send("GET", "/x").status == 401)
            let alice = fixture.browser()
            #expect(try await alice.logIn().status == 302)
        }
    }

    @Test func emailDomainRule() async throws {
        try await GatewayFixture.with(environment: ["GATEHOUSE_ALLOWED_EMAIL_DOMAINS": "example.com"]) { fixture in
            let bob = try await fixture.browser().logIn(user: "bob", password: "bob-password-1")
            #expect(bob.status == 403)
            #expect(bob.body.contains("email_not_allowed"))
            let alice = try await fixture.browser().logIn()
            #expect(alice.status == 302)
        }
    }

    @Test func malformedCallbacksAre400() async throws {
        try await GatewayFixture.with { fixture in
            let browser = fixture.browser()
            for query in ["", "?code=x", "?state=a&state=b", "?state=%zz", "?state=unknown&code=x", "?error=access_denied"] {
                let reply = try await browser.send("GET", "/oauth2/callback" + query)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.header("referrer-policy") == "no-referrer")
            }
        }
    }
}
