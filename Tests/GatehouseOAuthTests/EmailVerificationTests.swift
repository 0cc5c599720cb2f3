import Foundation
import Testing

@testable import GatehouseOAuth

/// ``EmailVerification``: which emails enter the ``Identity``. With `always` (the Microsoft
/// preset's default) an email needs a positive claim; with `ifPresent` (a generic issuer's)
/// only a negative one leaves it out. The "nOAuth" takeover: a multi-tenant IdP whose tenant
/// admins can set any address, and a relying party that trusts it without proof.
@Suite("Email verification")
struct EmailVerificationTests {
    static let issuer = "https://idp.example.test"

    static func identity(
        _ extra: [String: JSONValue], rule: EmailVerification
    ) async throws -> Identity {
        let keys = try await KeySet.build(
            jwks: Array(try JSONEncoder().encode(TestKeys.jwks([TestKeys.ec.publicJWK()]))), algorithms: ["ES256"])
        var claims = TestKeys.claims(issuer: issuer)
        claims["email"] = .string("ceo@victim.example")
        claims.merge(extra) { $1 }
        let token = try TestKeys.ec.token(claims)
        let idToken = try IDTokenVerifier.verify(
            token, keys: keys, expecting: IDTokenExpectations(issuer: .exact(issuer), clientID: HostileIdP.clientID, nonce: HostileIdP.nonce),
            now: HostileIdP.now)
        return Identity(idToken: idToken, emailVerification: rule)
    }

    @Test func alwaysKeepsOnlyAnEmailWithEmailVerifiedTrue() async throws {
        #expect(try await Self.identity([:], rule: .always).email == nil)
        #expect(try await Self.identity([:], rule: .always).emailVerified == nil)
        #expect(try await Self.identity(["email_verified": .bool(false)], rule: .always).email == nil)
        #expect(try await Self.identity(["email_verified": .null], rule: .always).email == nil)
        #expect(try await Self.identity(["email_verified": .string("yes")], rule: .always).email == nil)
        let verified = try await Self.identity(["email_verified": .bool(true)], rule: .always)
        #expect(verified.email == "ceo@victim.example" && verified.emailVerified == true)
        #expect(try await Self.identity(["email_verified": .string("true")], rule: .always).email == "ceo@victim.example")
    }

    @Test func ifPresentKeepsAnEmailWithoutTheClaim() async throws {
        #expect(try await Self.identity([:], rule: .ifPresent).email == "ceo@victim.example")
        #expect(try await Self.identity(["email_verified": .bool(false)], rule: .ifPresent).email == nil)
        // The default of the initialiser stays oauth2-proxy's rule.
        #expect(EmailVerification.ifPresent == EmailVerification(isRequired: false))
    }

    /// Microsoft: `email_verified` is not Entra ID's claim; only `xms_edov: true` (the email's
    /// domain owner is verified) vouches for an address.
    @Test func microsoftTrustsOnlyXmsEdov() async throws {
        let microsoft = Provider.microsoft(allowedTenants: ["00000000-0000-0000-0000-0000000000aa"]).emailVerification
        #expect(microsoft == .always(claim: "xms_edov"))
        #expect(try await Self.identity([:], rule: microsoft).email == nil)
        #expect(try await Self.identity(["email_verified": .bool(true)], rule: microsoft).email == nil)
        #expect(try await Self.identity(["xms_edov": .bool(false)], rule: microsoft).email == nil)
        let verified = try await Self.identity(["xms_edov": .bool(true)], rule: microsoft)
        #expect(verified.email == "ceo@victim.example" && verified.emailVerified == true)
        // if_present with Microsoft's claim: only xms_edov false leaves the email out.
        var lenient = microsoft
        lenient.isRequired = false
        #expect(try await Self.identity([:], rule: lenient).email == "ceo@victim.example")
        #expect(try await Self.identity(["xms_edov": .bool(false)], rule: lenient).email == nil)
    }

    @Test func userInfoFollowsTheSameRule() {
        let base = Identity(issuer: Self.issuer, subject: "user-42")
        let unproven: [String: JSONValue] = ["sub": .string("user-42"), "email": .string("ceo@victim.example")]
        #expect(base.completed(byUserInfo: unproven, emailVerification: .always).email == nil)
        #expect(base.completed(byUserInfo: unproven, emailVerification: .ifPresent).email == "ceo@victim.example")
        var proven = unproven
        proven["email_verified"] = .bool(true)
        #expect(base.completed(byUserInfo: proven, emailVerification: .always).email == "ceo@victim.example")
        #expect(base.completed(byUserInfo: proven, emailVerification: .always(claim: "xms_edov")).email == nil)
    }

    /// A login applies the provider's rule, to the ID token and to userinfo.
    @Test(arguments: [true, false])
    func loginAppliesTheProvidersRule(required: Bool) async throws {
        try await HostileIdP.with { idp in
            idp.publish(TestKeys.ec)
            var claims = TestKeys.claims(issuer: idp.issuer)
            claims["email"] = .string("ceo@victim.example")
            claims["name"] = .string("Not The CEO")
            idp.setToken(.tokens(idToken: try TestKeys.ec.token(claims)))
            var provider = Provider.oidc(issuer: idp.issuer)
            provider.emailVerification = EmailVerification(isRequired: required)
            let client = try OAuthClient(
                provider: provider,
                configuration: .init(
                    clientID: HostileIdP.clientID, authentication: .clientSecretBasic(HostileIdP.clientSecret),
                    redirectURI: HostileIdP.redirectURI),
                clock: WallClock { HostileIdP.now })
            let result = try await client.exchange(idp.callback, pending: HostileIdP.pending)
            #expect(result.identity.email == (required ? nil : "ceo@victim.example"))

            // Thin ID token: the email comes from userinfo, under the same rule.
            claims["email"] = nil
            idp.setToken(.tokens(idToken: try TestKeys.ec.token(claims)))
            idp.setUserInfo(.json(.object(["sub": .string("user-42"), "email": .string("ceo@victim.example")])))
            let thin = try await client.exchange(idp.callback, pending: HostileIdP.pending)
            #expect(idp.hits("/userinfo") == 1)
            #expect(thin.identity.email == (required ? nil : "ceo@victim.example"))
        }
    }
}
