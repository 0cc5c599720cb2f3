import GatehouseHummingbird
import GatehouseOAuth
import Testing

/// A group name that a comma-separated `X-Forwarded-Groups` cannot carry as itself (`,`, `"`,
/// control characters, surrounding blanks) is left out — on both proxy paths and in the
/// forward-auth answer — so that `"staff,admins"` never becomes the groups `staff` and
/// `admins` at the upstream.
@Suite("Group names in X-Forwarded-Groups")
struct GroupHeaderTests {
    static func groupsField(_ groups: [String]) -> String? {
        let identity = Identity(issuer: "https://idp.example", subject: "u1", groups: groups)
        return IdentityHeaders.values(for: identity).first { $0.0 == .forwardedGroups }?.1
    }

    @Test func unlistableNamesAreLeftOut() {
        #expect(
            Self.groupsField([
                "staff", "admins,root", " admins", "ops\t", "a\"b", "x\u{1}y", "line\r\nX-Forwarded-User: root", "",
                "dev ops", "équipe", "del\u{7F}",
            ]) == "staff,dev ops,équipe")
        #expect(Self.groupsField(["a,b"]) == nil)
        #expect(Self.groupsField([]) == nil)
    }

    @Test(arguments: [true, false])
    func aCommaInAGroupNameNeverMakesTwoGroups(direct: Bool) async throws {
        try await SigningGatewayFixture.with(environment: ["GATEHOUSE_DIRECT_PROXY": direct ? "true" : "false"]) {
            fixture in
            let browser = try await fixture.signedIn(subject: "bob", sid: nil, groups: ["staff", "admins,root"])
            // The second request finds the session settled (the direct path when enabled).
            for _ in 0..<2 {
                let echo = try await browser.send("GET", "/app").echo()
                #expect(echo.values("X-Forwarded-Groups") == ["staff"])
            }
            let answer = try await browser.send("GET", "/oauth2/auth")
            #expect(answer.status == 202)
            #expect(answer.headers("X-Forwarded-Groups") == ["staff"])
        }
    }
}
