import Foundation
import GatehouseOAuth
import Testing

/// One test per ID token rule of OpenID Connect Core §3.1.3.7 (and the JOSE pitfalls around
/// it): each forged or spoiled token must fail with its own code. Most go through the real
/// `OAuthClient.exchange` against the hostile IdP; the time boundaries use the pure verifier.
@Suite struct IDTokenNegativeTests {
    typealias Keys = TestKeys

    // MARK: Positive controls

    @Test func rs256TokenMintedByJWTKitLogsIn() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try await Keys.mintWithJWTKit(Keys.claims(issuer: idp.issuer), key: Keys.rsaA)
            let result = try await idp.login(idToken: token)
            #expect(result.identity.subject == "user-42")
            #expect(result.identity.issuer == idp.issuer)
            #expect(result.idToken?.algorithm == "RS256")
            #expect(idp.jwksHits == 1)
        }
    }

    @Test func es256TokenLogsIn() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.ec)
            let token = try await Keys.mintWithJWTKit(Keys.claims(issuer: idp.issuer), key: Keys.ec)
            #expect(try await idp.login(idToken: token).idToken?.algorithm == "ES256")
        }
    }

    @Test func edDSATokenLogsIn() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.ed)
            let token = try await Keys.mintWithJWTKit(Keys.claims(issuer: idp.issuer), key: Keys.ed)
            #expect(try await idp.login(idToken: token).idToken?.algorithm == "EdDSA")
        }
    }

    @Test func ps256TokenLogsIn() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer), alg: "PS256")
            #expect(try await idp.login(idToken: token).idToken?.algorithm == "PS256")
        }
    }

    // MARK: Signature and algorithm

    @Test func tokenSignedByAnotherKeyUnderThePublishedKidIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let forged = try Keys.attacker.token(Keys.claims(issuer: idp.issuer), kid: Keys.rsaA.kid)
            let error = await expectRejection(.idTokenBadSignature) { try await idp.login(idToken: forged) }
            Self.expectNoLeak(error, of: [forged, HostileIdP.clientSecret, HostileIdP.code, HostileIdP.nonce])
        }
    }

    @Test func tamperedPayloadIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let genuine = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer))
            var claims = Keys.claims(issuer: idp.issuer)
            claims["sub"] = .string("admin")
            let other = try Keys.rsaA.token(claims).split(separator: ".")
            let parts = genuine.split(separator: ".")
            let spliced = [parts[0], other[1], parts[2]].joined(separator: ".")
            await expectRejection(.idTokenBadSignature) { try await idp.login(idToken: spliced) }
        }
    }

    @Test(arguments: ["none", "None", "NONE"])
    func unsignedTokenIsRejected(alg: String) async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let unsigned = try Keys.craft(
                header: ["alg": .string(alg), "kid": .string(Keys.rsaA.kid)], claims: Keys.claims(issuer: idp.issuer),
                signature: .none)
            let error = await expectRejection(.idTokenUnsupportedAlgorithm) { try await idp.login(idToken: unsigned) }
            Self.expectNoLeak(error, of: [unsigned])
        }
    }

    /// The algorithm-confusion attack: HS256 keyed with the RSA public key, which a verifier
    /// that lets the header pick the algorithm would accept.
    @Test(arguments: ["pem", "der", "jwk-n"])
    func hmacWithThePublicKeyAsSecretIsRejected(secretForm: String) async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            guard case .rsa(let key) = Keys.rsaA.material else { throw Keys.Failure("not RSA") }
            let secret: [UInt8] =
                switch secretForm {
                case "pem": Array(key.publicKey.pemRepresentation.utf8)
                case "der": Array(key.publicKey.derRepresentation)
                default: Array(try key.publicKey.getKeyPrimitives().modulus)
                }
            let forged = try Keys.craft(
                header: ["alg": .string("HS256"), "kid": .string(Keys.rsaA.kid), "typ": .string("JWT")],
                claims: Keys.claims(issuer: idp.issuer), signature: .hmacSHA256(secret: secret))
            await expectRejection(.idTokenUnsupportedAlgorithm) { try await idp.login(idToken: forged) }
        }
    }

    /// Even a caller who lists HS256 among the allowed algorithms cannot enable it.
    @Test func hmacStaysRejectedWhenTheCallerAllowsIt() async throws {
        guard case .rsa(let key) = Keys.rsaA.material else { throw Keys.Failure("not RSA") }
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        let forged = try Keys.craft(
            header: ["alg": .string("HS256"), "kid": .string(Keys.rsaA.kid)], claims: Keys.claims(issuer: Self.issuer),
            signature: .hmacSHA256(secret: Array(key.publicKey.pemRepresentation.utf8)))
        var expectations = Self.expectations()
        expectations.algorithms = ["RS256", "HS256"]
        await expectRejection(.idTokenUnsupportedAlgorithm) {
            try IDTokenVerifier.verify(forged, keys: keys, expecting: expectations, now: HostileIdP.now)
        }
    }

    @Test(arguments: ["RS384", "PS256"])
    func headerAlgorithmOtherThanTheJWKsIsRejected(alg: String) async throws {
        try await HostileIdP.with { idp in
            idp.publish([Keys.rsaA.publicJWK(alg: "RS256")])
            // Signed correctly with the published key, but with an algorithm the JWK excludes.
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer), alg: alg)
            await expectRejection(.idTokenAlgorithmMismatch) { try await idp.login(idToken: token) }
        }
    }

    @Test func algorithmTheProviderDoesNotAdvertiseIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.overrideDiscovery(["id_token_signing_alg_values_supported": Keys.strings(["RS256"])])
            idp.publish(Keys.ec)
            let token = try Keys.ec.token(Keys.claims(issuer: idp.issuer))
            await expectRejection(.idTokenUnsupportedAlgorithm) { try await idp.login(idToken: token) }
        }
    }

    @Test func criticalHeaderIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(
                Keys.claims(issuer: idp.issuer), extraHeader: ["crit": Keys.strings(["exp"]), "exp": .number(1_900_000_000)])
            await expectRejection(.idTokenUnknownCritical) { try await idp.login(idToken: token) }
        }
    }

    // MARK: Issuer, audience, authorized party

    @Test func wrongIssuerIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: "https://evil.example"))
            await expectRejection(.idTokenIssuerMismatch) { try await idp.login(idToken: token) }
            // A trailing slash is a different issuer (exact comparison, OIDC Discovery §4.3).
            let slashed = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer + "/"))
            await expectRejection(.idTokenIssuerMismatch) { try await idp.login(idToken: slashed) }
        }
    }

    @Test func wrongAudienceIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer, clientID: "someone-else"))
            await expectRejection(.idTokenAudienceMismatch) { try await idp.login(idToken: token) }
        }
    }

    @Test func severalAudiencesWithoutAzpAreRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            var claims = Keys.claims(issuer: idp.issuer)
            claims["aud"] = Keys.strings([HostileIdP.clientID, "partner-api"])
            let token = try Keys.rsaA.token(claims)
            await expectRejection(.idTokenAuthorizedPartyMismatch) {
                try await idp.login(idToken: token) { $0.trustedAudiences = ["partner-api"] }
            }
            // With azp naming us, the same trusted audience is fine.
            claims["azp"] = .string(HostileIdP.clientID)
            let withAzp = try Keys.rsaA.token(claims)
            _ = try await idp.login(idToken: withAzp) { $0.trustedAudiences = ["partner-api"] }
        }
    }

    @Test func untrustedExtraAudienceIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            var claims = Keys.claims(issuer: idp.issuer)
            claims["aud"] = Keys.strings([HostileIdP.clientID, "partner-api"])
            claims["azp"] = .string(HostileIdP.clientID)
            let token = try Keys.rsaA.token(claims)
            await expectRejection(.idTokenUntrustedAudience) { try await idp.login(idToken: token) }
        }
    }

    @Test func azpNamingAnotherClientIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            var claims = Keys.claims(issuer: idp.issuer)
            claims["azp"] = .string("someone-else")
            let token = try Keys.rsaA.token(claims)
            await expectRejection(.idTokenAuthorizedPartyMismatch) { try await idp.login(idToken: token) }
        }
    }

    // MARK: Identity

    /// An email the IdP calls unverified is no part of the identity (never an identity header,
    /// `/oauth2/userinfo` value or allow-list match: the "nOAuth" account-takeover pattern);
    /// one it calls verified, or says nothing about, is.
    @Test func unverifiedEmailIsNotPartOfTheIdentity() async throws {
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        func identity(emailVerified: JSONValue?) throws -> Identity {
            var claims = Keys.claims(issuer: Self.issuer)
            claims["email"] = .string("victim@example.com")
            claims["email_verified"] = emailVerified
            let token = try Keys.rsaA.token(claims)
            return Identity(idToken: try IDTokenVerifier.verify(token, keys: keys, expecting: Self.expectations(), now: HostileIdP.now))
        }
        let unverified = try identity(emailVerified: .bool(false))
        #expect(unverified.email == nil)
        #expect(unverified.emailVerified == false)
        #expect(try identity(emailVerified: .bool(true)).email == "victim@example.com")
        #expect(try identity(emailVerified: nil).email == "victim@example.com")
    }

    /// Userinfo only fills what the ID token left out, and an email it marks unverified
    /// (also as the string `"false"`, as some providers send it) is left out too.
    @Test func userInfoCompletesTheIdentityWithoutOverriding() {
        let base = Identity(issuer: Self.issuer, subject: "user-42", name: "From ID Token")
        let completed = base.completed(byUserInfo: [
            "sub": .string("user-42"), "email": .string("a@example.com"), "email_verified": .bool(true),
            "name": .string("From Userinfo"), "preferred_username": .string("a"), "groups": Keys.strings(["g"]),
        ])
        #expect(completed.email == "a@example.com" && completed.emailVerified == true)
        #expect(completed.name == "From ID Token")
        #expect(completed.preferredUsername == "a" && completed.groups == ["g"])
        let unverified = base.completed(byUserInfo: ["email": .string("a@example.com"), "email_verified": .string("false")])
        #expect(unverified.email == nil && unverified.emailVerified == false)
        var markedByIDToken = base
        markedByIDToken.emailVerified = false
        #expect(markedByIDToken.completed(byUserInfo: ["email": .string("a@example.com")]).email == nil)
    }

    /// An ID token without the email its scope stands for sends the login to userinfo: a
    /// failing userinfo leaves the identity as the ID token says, but one about another
    /// subject fails the login.
    @Test func userInfoAboutAnotherSubjectFailsTheLogin() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer))
            let without = try await idp.login(idToken: token)  // userinfo answers 404
            #expect(without.identity.subject == "user-42" && without.identity.email == nil)
            #expect(idp.hits("/userinfo") == 1)
            idp.setUserInfo(.json(.object(["sub": .string("someone-else"), "email": .string("x@example.com")])))
            await expectRejection(.userInfoSubjectMismatch) { try await idp.login(idToken: token) }
            idp.setUserInfo(.json(.object(["sub": .string("user-42"), "email": .string("u@example.com")])))
            #expect(try await idp.login(idToken: token).identity.email == "u@example.com")
        }
    }

    // MARK: Time (pure verifier; 60 s default skew)

    @Test func expiredBeyondTheSkewIsRejected() async throws {
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        var claims = Keys.claims(issuer: Self.issuer)
        claims["iat"] = .number(Self.seconds - 600)
        claims["exp"] = .number(Self.seconds - 61)
        let token = try Keys.rsaA.token(claims)
        await expectRejection(.idTokenExpired) {
            try IDTokenVerifier.verify(token, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
        }
        claims["exp"] = .number(Self.seconds - 60)
        let atTheBoundary = try Keys.rsaA.token(claims)
        await expectRejection(.idTokenExpired) {
            try IDTokenVerifier.verify(atTheBoundary, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
        }
    }

    @Test func expiredWithinTheSkewIsAccepted() async throws {
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        var claims = Keys.claims(issuer: Self.issuer)
        claims["iat"] = .number(Self.seconds - 600)
        claims["exp"] = .number(Self.seconds - 59)
        let token = try Keys.rsaA.token(claims)
        let verified = try IDTokenVerifier.verify(token, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
        #expect(verified.claims.subject == "user-42")
    }

    @Test func tokenExpiresWhileTheManualClockAdvances() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let clock = HostileIdP.ManualClock()
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer))  // exp = now + 300
            let client = try idp.client(clock: clock.wallClock)
            _ = try await client.validateIDToken(token, nonce: HostileIdP.nonce)
            clock.advance(by: 300 + 61)
            await expectRejection(.idTokenExpired) { try await client.validateIDToken(token, nonce: HostileIdP.nonce) }
        }
    }

    @Test func issuedInTheFutureIsRejected() async throws {
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        var claims = Keys.claims(issuer: Self.issuer)
        claims["iat"] = .number(Self.seconds + 120)
        claims["exp"] = .number(Self.seconds + 600)
        let token = try Keys.rsaA.token(claims)
        await expectRejection(.idTokenIssuedInFuture) {
            try IDTokenVerifier.verify(token, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
        }
        claims["iat"] = .number(Self.seconds + 30)  // within the skew
        let slightlyAhead = try Keys.rsaA.token(claims)
        _ = try IDTokenVerifier.verify(slightlyAhead, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
    }

    @Test func notBeforeInTheFutureIsRejected() async throws {
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        var claims = Keys.claims(issuer: Self.issuer)
        claims["nbf"] = .number(Self.seconds + 120)
        let token = try Keys.rsaA.token(claims)
        await expectRejection(.idTokenNotYetValid) {
            try IDTokenVerifier.verify(token, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
        }
    }

    // MARK: nonce, at_hash, sub

    @Test func nonceOfAnotherLoginIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer, nonce: "nonce-of-another-login"))
            let error = await expectRejection(.idTokenNonceMismatch) { try await idp.login(idToken: token) }
            Self.expectNoLeak(error, of: [HostileIdP.nonce, "nonce-of-another-login", token])
        }
    }

    @Test func missingNonceIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer, nonce: nil))
            await expectRejection(.idTokenNonceMismatch) { try await idp.login(idToken: token) }
        }
    }

    @Test func wrongAccessTokenHashIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            var claims = Keys.claims(issuer: idp.issuer)
            claims["at_hash"] = .string(Keys.accessTokenHash("a-different-access-token"))
            let token = try Keys.rsaA.token(claims)
            let error = await expectRejection(.idTokenAccessTokenHashMismatch) { try await idp.login(idToken: token) }
            Self.expectNoLeak(error, of: [HostileIdP.accessToken])
            // The right hash passes.
            claims["at_hash"] = .string(Keys.accessTokenHash(HostileIdP.accessToken))
            _ = try await idp.login(idToken: try Keys.rsaA.token(claims))
        }
    }

    @Test(arguments: ["missing", "empty"])
    func tokenWithoutSubjectIsRejected(variant: String) async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            var claims = Keys.claims(issuer: idp.issuer)
            if variant == "missing" { claims["sub"] = nil } else { claims["sub"] = .string("") }
            let token = try Keys.rsaA.token(claims)
            await expectRejection(.idTokenMissingSubject) { try await idp.login(idToken: token) }
        }
    }

    // MARK: Malformed

    @Test(arguments: [
        "not-a-jwt", "a.b", "e30.e30.e30.e30.e30",  // a JWE has five parts: not supported
        "eyJhbGciOiJSUzI1NiJ9.e30=.AAAA",  // padding is not base64url
        "W10.e30.AAAA",  // the header is an array
        "eyJ0eXAiOiJKV1QifQ.e30.AAAA",  // no alg
    ])
    func malformedTokenIsRejected(token: String) async throws {
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        await expectRejection(.idTokenMalformed) {
            try IDTokenVerifier.verify(token, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
        }
    }

    @Test func emptySignatureIsABadSignature() async throws {
        let keys = try await Self.keySet([Keys.rsaA.publicJWK()])
        let token = try Keys.craft(
            header: ["alg": .string("RS256"), "kid": .string(Keys.rsaA.kid)], claims: Keys.claims(issuer: Self.issuer),
            signature: .none)
        await expectRejection(.idTokenBadSignature) {
            try IDTokenVerifier.verify(token, keys: keys, expecting: Self.expectations(), now: HostileIdP.now)
        }
    }

    // MARK: Helpers

    static let issuer = "https://idp.example"
    static let seconds = HostileIdP.now.timeIntervalSince1970

    static func expectations() -> IDTokenExpectations {
        IDTokenExpectations(issuer: .exact(issuer), clientID: HostileIdP.clientID, nonce: HostileIdP.nonce)
    }

    static func keySet(_ jwks: [JSONValue]) async throws -> KeySet {
        let document = Array(try JSONEncoder().encode(TestKeys.jwks(jwks)))
        return try await KeySet.build(jwks: document, algorithms: KeySet.supportedAlgorithms)
    }

    /// Neither the message nor the description of `error` may repeat a token or secret.
    static func expectNoLeak(_ error: OAuthError?, of secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error else { return }
        for secret in secrets {
            #expect(!error.message.contains(secret), sourceLocation: sourceLocation)
            #expect(!error.description.contains(secret), sourceLocation: sourceLocation)
            #expect(!(error.bodyExcerpt ?? "").contains(secret), sourceLocation: sourceLocation)
            // The signature part alone would be enough to replay a token.
            if let signature = secret.split(separator: ".").last, secret.contains(".") {
                #expect(!error.description.contains(signature), sourceLocation: sourceLocation)
            }
        }
    }
}
