import Foundation
import GatehouseOAuth
import Testing

/// RFC 9068 §4 JWT access token validation, one negative test per rule, and the rule that
/// nothing shaped like an ID token passes as an access token.
@Suite struct AccessTokenVerifierTests {
    typealias Keys = TestKeys
    static let issuer = IDTokenNegativeTests.issuer
    static let api = "https://api.example"

    static func claims() -> [String: JSONValue] {
        var claims = Keys.claims(issuer: issuer, nonce: nil)
        claims["aud"] = .string(api)
        claims["client_id"] = .string(HostileIdP.clientID)
        claims["jti"] = .string("at-jti-1")
        return claims
    }

    static func verify(_ token: String, audiences: Set<String> = [api]) async throws -> JWTAccessToken {
        let keys = try await IDTokenNegativeTests.keySet([Keys.rsaA.publicJWK()])
        return try AccessTokenVerifier.verify(
            token, keys: keys, expecting: AccessTokenExpectations(issuer: .exact(issuer), audiences: audiences),
            now: HostileIdP.now)
    }

    static func token(_ claims: [String: JSONValue] = claims(), typ: String? = "at+jwt") throws -> String {
        try Keys.rsaA.token(claims, extraHeader: typ.map { ["typ": .string($0)] } ?? [:])
    }

    @Test func anAccessTokenForOurAudienceIsAccepted() async throws {
        let verified = try await Self.verify(try Self.token())
        #expect(verified.claims.subject == "user-42")
        #expect(Identity(accessToken: verified).subject == "user-42")
        // RFC 7515 §4.1.9: the media type prefix and letter case do not matter.
        _ = try await Self.verify(try Self.token(typ: "application/AT+JWT"))
        // Several audiences, one of them ours.
        var several = Self.claims()
        several["aud"] = Keys.strings(["https://other.example", Self.api])
        _ = try await Self.verify(try Self.token(several))
    }

    /// A valid ID token for our client (typ JWT, nonce, aud = client id) is not a credential.
    @Test func anIDTokenIsRefused() async throws {
        let idToken = try Keys.rsaA.token(Keys.claims(issuer: Self.issuer))
        await expectRejection(.accessTokenType) { try await Self.verify(idToken, audiences: [HostileIdP.clientID]) }
        let untyped = try Keys.rsaA.token(Keys.claims(issuer: Self.issuer), extraHeader: ["typ": .null])
        await expectRejection(.accessTokenType) { try await Self.verify(untyped, audiences: [HostileIdP.clientID]) }
    }

    /// An ID token relabelled at+jwt still carries the claims only ID tokens have.
    @Test(arguments: ["nonce", "at_hash", "c_hash", "s_hash"])
    func idTokenClaimsAreRefused(_ claim: String) async throws {
        var claims = Self.claims()
        claims[claim] = .string("x")
        await expectRejection(.accessTokenIsIDToken) { try await Self.verify(try Self.token(claims)) }
    }

    @Test func anAudienceThatIsOnlyTheAuthorizedPartyIsRefused() async throws {
        var claims = Self.claims()
        claims["aud"] = .string(HostileIdP.clientID)
        claims["azp"] = .string(HostileIdP.clientID)
        await expectRejection(.accessTokenIsIDToken) {
            try await Self.verify(try Self.token(claims), audiences: [HostileIdP.clientID])
        }
    }

    @Test func theWrongAudienceIsRefused() async throws {
        await expectRejection(.accessTokenAudienceMismatch) {
            try await Self.verify(try Self.token(), audiences: ["https://another-api.example"])
        }
    }

    @Test func theWrongIssuerIsRefused() async throws {
        var claims = Self.claims()
        claims["iss"] = .string(Self.issuer + "/")
        await expectRejection(.accessTokenIssuerMismatch) { try await Self.verify(try Self.token(claims)) }
    }

    @Test func timesAndSubjectAreChecked() async throws {
        let now = HostileIdP.now.timeIntervalSince1970
        var expired = Self.claims()
        expired["exp"] = .number(now - 61)
        await expectRejection(.accessTokenExpired) { try await Self.verify(try Self.token(expired)) }
        var early = Self.claims()
        early["nbf"] = .number(now + 120)
        await expectRejection(.accessTokenNotYetValid) { try await Self.verify(try Self.token(early)) }
        var noSubject = Self.claims()
        noSubject["sub"] = nil
        await expectRejection(.accessTokenMissingSubject) { try await Self.verify(try Self.token(noSubject)) }
    }

    @Test func aForeignSignatureIsRefused() async throws {
        let forged = try Keys.attacker.token(Self.claims(), kid: Keys.rsaA.kid, extraHeader: ["typ": .string("at+jwt")])
        await expectRejection(.idTokenBadSignature) { try await Self.verify(forged) }
    }
}
