import Crypto
import Foundation
import GatehouseGateway
import GatehouseOAuth
import GatehouseTestSupport
import Testing

/// `GATEHOUSE_ALLOW_BEARER`: IdP-signed JWT access tokens (RFC 9068, `typ: at+jwt`, an `aud`
/// among `GATEHOUSE_BEARER_AUDIENCE`) instead of a cookie — never ID tokens — and what happens
/// to a client's `Authorization` header without it.
@Suite("Gateway bearer mode")
struct BearerModeTests {
    static let allow = ["GATEHOUSE_ALLOW_BEARER": "true"]

    @Test func aValidBearerPassesWithIdentityHeadersAndNoCookie() async throws {
        try await SigningGatewayFixture.with(environment: Self.allow) { fixture in
            let token = try fixture.idp.token(
                fixture.idp.bearerClaims(sub: "api-user", email: "api@example.com", username: "api", groups: ["ops", "dev"]),
                typ: "at+jwt")
            let reply = try await fixture.browser().send(
                "GET", "/api/items?x=1",
                headers: [("Authorization", "Bearer " + token), ("X-Forwarded-User", "mallory")])
            #expect(reply.status == 200)
            let echo = try reply.echo()
            #expect(echo.path == "/api/items")
            #expect(echo.values("X-Forwarded-User") == ["api-user"])
            #expect(echo.value("X-Forwarded-Email") == "api@example.com")
            #expect(echo.value("X-Forwarded-Preferred-Username") == "api")
            #expect(echo.value("X-Forwarded-Groups") == "ops,dev")
            #expect(echo.values("Authorization") == ["Bearer " + token])
        }
    }

    @Test func theSchemeIsCaseInsensitive() async throws {
        try await SigningGatewayFixture.with(environment: Self.allow) { fixture in
            let token = try fixture.idp.token(fixture.idp.bearerClaims(sub: "u"), typ: "application/at+jwt")
            let reply = try await fixture.browser().send("GET", "/x", headers: [("Authorization", "bearer " + token)])
            #expect(reply.status == 200)
        }
    }

    enum Spoil: String, CaseIterable, Sendable {
        case wrongAudience, wrongIssuer, otherKeySameKid, expired, notYetValid, noSubject, logoutToken, garbage, empty
        /// What GATEHOUSE_ALLOW_BEARER accepted before: an ID token for our client id.
        case idToken, idTokenWithoutType, idTokenRelabelled, unknownKid
    }

    @Test(arguments: Spoil.allCases)
    func anInvalidBearerGets401JSON(_ spoil: Spoil) async throws {
        try await SigningGatewayFixture.with(environment: Self.allow) { fixture in
            let idp = fixture.idp
            var claims = idp.bearerClaims(sub: "u")
            var signer: P256.Signing.PrivateKey?
            var token: String?
            var typ = "at+jwt"
            var kid = SigningIdP.keyID
            let now = Date().timeIntervalSince1970
            switch spoil {
            case .wrongAudience: claims["aud"] = .string("another-client")
            case .wrongIssuer: claims["iss"] = .string("https://evil.example")
            case .otherKeySameKid: signer = P256.Signing.PrivateKey()
            case .expired: (claims["iat"], claims["exp"]) = (.number(now - 7200), .number(now - 3600))
            case .notYetValid: claims["nbf"] = .number(now + 3600)
            case .noSubject: claims["sub"] = nil
            case .logoutToken: token = try idp.token(idp.logoutClaims(sid: "s1", sub: "u"))
            case .garbage: token = "not.a.jwt"
            case .empty: token = ""
            case .idToken: (typ, claims["nonce"]) = ("JWT", .string("n-1"))
            case .idTokenWithoutType: token = try idp.token(claims, typ: nil)
            case .idTokenRelabelled: claims["at_hash"] = .string("x4Dq8BKaBq1u0mV8V2YtWw")
            case .unknownKid: (kid, signer) = ("rotated-\(UUID())", P256.Signing.PrivateKey())
            }
            let credential = try token ?? idp.token(claims, typ: typ, kid: kid, signer: signer)
            let reply = try await fixture.browser().send("GET", "/api", headers: [("Authorization", "Bearer " + credential)])
            #expect(reply.status == 401, "\(spoil)")
            #expect(reply.header("www-authenticate") == "Bearer error=\"invalid_token\"")
            #expect(reply.header("content-type") == "application/json")
            let body = try JSONDecoder().decode([String: String].self, from: Data(reply.body.utf8))
            #expect(body["error"] == "invalid_token")
        }
    }

    /// GATEHOUSE_BEARER_AUDIENCE names the API the access tokens are for; the client id is then
    /// no longer accepted as an audience.
    @Test func theAudienceIsConfigurable() async throws {
        let api = "https://api.example"
        try await SigningGatewayFixture.with(environment: Self.allow.merging(["GATEHOUSE_BEARER_AUDIENCE": api]) { $1 }) {
            fixture in
            let idp = fixture.idp
            var forAPI = idp.bearerClaims(sub: "api-user")
            forAPI["aud"] = .array([.string("https://other.example"), .string(api)])
            let accepted = try await fixture.browser().send(
                "GET", "/api", headers: [("Authorization", "Bearer " + idp.token(forAPI, typ: "at+jwt"))])
            #expect(accepted.status == 200)
            #expect(try accepted.echo().value("X-Forwarded-User") == "api-user")

            let forClient = try idp.token(idp.bearerClaims(sub: "api-user"), typ: "at+jwt")
            let refused = try await fixture.browser().send("GET", "/api", headers: [("Authorization", "Bearer " + forClient)])
            #expect(refused.status == 401)
            #expect(refused.header("www-authenticate") == "Bearer error=\"invalid_token\"")
        }
    }

    @Test func anInvalidBearerIsNotRescuedByACookie() async throws {
        try await SigningGatewayFixture.with(environment: Self.allow) { fixture in
            let browser = try await fixture.signedIn(subject: "u1", sid: "s1")
            #expect(try await browser.send("GET", "/x").status == 200)
            let reply = try await browser.send("GET", "/x", headers: [("Authorization", "Bearer forged")])
            #expect(reply.status == 401)
        }
    }

    @Test func theAccessRulesApplyToBearers() async throws {
        try await SigningGatewayFixture.with(
            environment: Self.allow.merging(["GATEHOUSE_ALLOWED_EMAIL_DOMAINS": "example.org"]) { $1 }
        ) { fixture in
            let token = try fixture.idp.token(fixture.idp.bearerClaims(sub: "u", email: "u@example.com"), typ: "at+jwt")
            let reply = try await fixture.browser().send("GET", "/api", headers: [("Authorization", "Bearer " + token)])
            #expect(reply.status == 403)
            #expect(reply.body.contains("email_not_allowed"))
        }
    }

    /// A bearer's email follows GATEHOUSE_REQUIRE_EMAIL_VERIFIED as a login's does: with
    /// `always`, an email without `email_verified: true` is not sent upstream.
    @Test func aBearersEmailNeedsVerificationAsALoginsDoes() async throws {
        try await SigningGatewayFixture.with(
            environment: Self.allow.merging(["GATEHOUSE_REQUIRE_EMAIL_VERIFIED": "always"]) { $1 }
        ) { fixture in
            let idp = fixture.idp
            let unverified = try idp.token(idp.bearerClaims(sub: "u", email: "ceo@example.com"), typ: "at+jwt")
            let echo = try await fixture.browser().send("GET", "/api", headers: [("Authorization", "Bearer " + unverified)])
                .echo()
            #expect(echo.value("X-Forwarded-User") == "u")
            #expect(echo.value("X-Forwarded-Email") == nil)
            var claims = idp.bearerClaims(sub: "u", email: "ceo@example.com")
            claims["email_verified"] = .bool(true)
            let verified = try idp.token(claims, typ: "at+jwt")
            let verifiedEcho = try await fixture.browser().send(
                "GET", "/api", headers: [("Authorization", "Bearer " + verified)]
            ).echo()
            #expect(verifiedEcho.value("X-Forwarded-Email") == "ceo@example.com")
        }
    }

    @Test func withoutBearerModeABearerNeverIdentifiesAnyone() async throws {
        try await SigningGatewayFixture.with { fixture in
            let token = try fixture.idp.token(fixture.idp.bearerClaims(sub: "api-user"), typ: "at+jwt")
            let reply = try await fixture.browser().send(
                "GET", "/api", headers: [("Authorization", "Bearer " + token), ("Accept", "application/json")])
            #expect(reply.status == 401)
            #expect(reply.body.contains("login_url"))
            // With a session, the client's header reaches the upstream unchanged, identity from the session.
            let browser = try await fixture.signedIn(subject: "cookie-user", sid: nil)
            let echo = try await browser.send("GET", "/api", headers: [("Authorization", "Bearer " + token)]).echo()
            #expect(echo.value("X-Forwarded-User") == "cookie-user")
            #expect(echo.values("Authorization") == ["Bearer " + token])
        }
    }

    @Test func withPassAccessTokenAClientAuthorizationNeverReachesTheUpstream() async throws {
        try await SigningGatewayFixture.with(
            environment: ["GATEHOUSE_PASS_ACCESS_TOKEN": "true", "GATEHOUSE_SKIP_AUTH_ROUTES": "/public"]
        ) { fixture in
            let anonymous = try await fixture.browser().send(
                "GET", "/public/page", headers: [("Authorization", "Bearer client-supplied")])
            #expect(anonymous.status == 200)
            #expect(try anonymous.echo().value("Authorization") == nil)
            let browser = try await fixture.signedIn(subject: "u1", sid: nil)
            let echo = try await browser.send("GET", "/api", headers: [("Authorization", "Bearer client-supplied")]).echo()
            #expect(echo.values("Authorization").count == 1)
            #expect(echo.value("Authorization")?.hasPrefix("Bearer at-") == true)
        }
    }

    @Test func theSettingIsParsedStrictly() async throws {
        let base = [
            "GATEHOUSE_ISSUER": "https://idp.example", "GATEHOUSE_CLIENT_ID": "c",
            "GATEHOUSE_UPSTREAM": "http://127.0.0.1:1", "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
        ]
        #expect(try await GatewayConfiguration.load(environment: base).allowBearer == false)
        #expect(try await GatewayConfiguration.load(environment: base).bearerAudiences == [])
        let audiences = try await GatewayConfiguration.load(
            environment: base.merging(["GATEHOUSE_BEARER_AUDIENCE": "https://api.example, api-2"]) { $1 })
        #expect(audiences.bearerAudiences == ["https://api.example", "api-2"])
        await #expect {
            try await GatewayConfiguration.load(environment: base.merging(["GATEHOUSE_BEARER_AUDIENCE": " , "]) { $1 })
        } throws: { ($0 as? ConfigurationError)?.variable == "GATEHOUSE_BEARER_AUDIENCE" }
        let on = try await GatewayConfiguration.load(environment: base.merging(["GATEHOUSE_ALLOW_BEARER": "TRUE"]) { $1 })
        #expect(on.allowBearer)
        for bad in ["yes", "1", "on"] {
            await #expect {
                try await GatewayConfiguration.load(environment: base.merging(["GATEHOUSE_ALLOW_BEARER": bad]) { $1 })
            } throws: { ($0 as? ConfigurationError)?.variable == "GATEHOUSE_ALLOW_BEARER" }
        }
    }
}
