import Foundation
import GatehouseOAuth
import Testing

/// Key selection: `kid` handling, key rotation with a rate-limited refetch, and the header
/// parameters (`jku`, `jwk`) an attacker uses to bring their own key. Includes the jwt-kit 5
/// pitfall: a `JWTKeyCollection` falls back to its default key for an unknown `kid`.
@Suite struct IDTokenKeyNegativeTests {
    typealias Keys = TestKeys

    @Test func tokenWithoutKidIsRejectedWhenSeveralKeysFit() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA, Keys.rsaB)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer), omitKid: true)
            await expectRejection(.idTokenAmbiguousKey) { try await idp.login(idToken: token) }
        }
    }

    @Test func tokenWithoutKidIsAcceptedWithExactlyOneKey() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer), omitKid: true)
            let result = try await idp.login(idToken: token)
            #expect(result.idToken?.keyID == nil)
        }
    }

    /// Only one key suits ES256 among an RSA and an EC key, so no `kid` is still unambiguous.
    @Test func tokenWithoutKidPicksTheOnlyKeyOfItsAlgorithm() async throws {
        let keys = try await IDTokenNegativeTests.keySet([Keys.rsaA.publicJWK(), Keys.ec.publicJWK()])
        let token = try Keys.ec.token(Keys.claims(issuer: IDTokenNegativeTests.issuer), omitKid: true)
        let verified = try IDTokenVerifier.verify(
            token, keys: keys, expecting: IDTokenNegativeTests.expectations(), now: HostileIdP.now)
        #expect(verified.algorithm == "ES256")
    }

    /// The jwt-kit pitfall: the right key, but a `kid` nobody published. A default-key fallback
    /// would accept it; the key is looked up by `kid` only.
    @Test func rightKeyUnderABogusKidIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer), kid: "bogus")
            await expectRejection(.idTokenKeyNotFound) { try await idp.login(idToken: token) }
        }
    }

    @Test func unknownKidTriggersOneRateLimitedRefetch() async throws {
        try await HostileIdP.with { idp in
            let clock = HostileIdP.ManualClock()
            let client = try idp.client(clock: clock.wallClock) { $0.keysMinimumRefetchInterval = .seconds(30) }
            let claims = Keys.claims(issuer: idp.issuer)

            idp.publish(Keys.rsaA)
            _ = try await client.validateIDToken(try Keys.rsaA.token(claims), nonce: HostileIdP.nonce)
            #expect(idp.jwksHits == 1)

            // The IdP rotates to key B; a token under B's kid makes the client refetch once.
            idp.publish(Keys.rsaA, Keys.rsaB)
            let rotated = try await client.validateIDToken(try Keys.rsaB.token(claims), nonce: HostileIdP.nonce)
            #expect(rotated.keyID == Keys.rsaB.kid)
            #expect(idp.jwksHits == 2)

            // Another unknown kid right after: no refetch (a flood of forged kids cannot make
            // us hammer the IdP), and the token fails.
            let forged = try Keys.attacker.token(claims)
            await expectRejection(.idTokenKeyNotFound) { try await client.validateIDToken(forged, nonce: HostileIdP.nonce) }
            #expect(idp.jwksHits == 2)

            // Still within the interval: nothing; past it: one more refetch (still unknown).
            clock.advance(by: 29)
            await expectRejection(.idTokenKeyNotFound) { try await client.validateIDToken(forged, nonce: HostileIdP.nonce) }
            #expect(idp.jwksHits == 2)
            clock.advance(by: 2)
            await expectRejection(.idTokenKeyNotFound) { try await client.validateIDToken(forged, nonce: HostileIdP.nonce) }
            #expect(idp.jwksHits == 3)

            // Keys already known keep working without any fetch.
            _ = try await client.validateIDToken(try Keys.rsaB.token(claims), nonce: HostileIdP.nonce)
            #expect(idp.jwksHits == 3)
        }
    }

    /// Two logins arrive together with a token under the new key while the refetch it causes
    /// is still on its way: both should wait for that one refetch, not fail with key-not-found.
    @Test func concurrentLoginsDuringRotationShareTheRefetch() async throws {
        try await HostileIdP.with { idp in
            let client = try idp.client()
            let claims = Keys.claims(issuer: idp.issuer)
            idp.publish(Keys.rsaA)
            _ = try await client.validateIDToken(try Keys.rsaA.token(claims), nonce: HostileIdP.nonce)

            var rotated = HostileIdP.Reply.json(Keys.jwks([Keys.rsaA.publicJWK(), Keys.rsaB.publicJWK()]))
            rotated.delay = .milliseconds(300)
            idp.setJWKS(rotated)
            let token = try Keys.rsaB.token(claims)
            async let first = Self.outcome { try await client.validateIDToken(token, nonce: HostileIdP.nonce) }
            async let second = Self.outcome { try await client.validateIDToken(token, nonce: HostileIdP.nonce) }
            let outcomes = await [first, second]
            #expect(idp.jwksHits == 2)
            // The second caller awaits the refetch in flight instead of being rate-limited.
            #expect(outcomes.allSatisfy { $0 == nil }, "\(outcomes)")
        }
    }

    /// `nil` on success, the error code otherwise.
    static func outcome(_ body: () async throws -> IDToken) async -> OAuthError.Code? {
        do {
            _ = try await body()
            return nil
        } catch let error as OAuthError {
            return error.code
        } catch {
            return .transport
        }
    }

    @Test func unknownKidStillUnknownAfterTheRefetchIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let token = try Keys.rsaB.token(Keys.claims(issuer: idp.issuer))
            await expectRejection(.idTokenKeyNotFound) { try await idp.login(idToken: token) }
            // The first fetch, then exactly one refetch for the unknown kid.
            #expect(idp.jwksHits == 2)
        }
    }

    /// `jku` pointing at the attacker's own JWKS: never fetched, never trusted.
    @Test func jkuHeaderIsNotFollowed() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            idp.setAttackerJWKS(.json(Keys.jwks([Keys.attacker.publicJWK()])))
            let claims = Keys.claims(issuer: idp.issuer)
            let jku = JSONValue.string(idp.issuer + "/attacker/jwks")

            let ownKid = try Keys.attacker.token(claims, extraHeader: ["jku": jku])
            await expectRejection(.idTokenKeyNotFound) { try await idp.login(idToken: ownKid) }

            let publishedKid = try Keys.attacker.token(claims, kid: Keys.rsaA.kid, extraHeader: ["jku": jku])
            await expectRejection(.idTokenBadSignature) { try await idp.login(idToken: publishedKid) }

            #expect(idp.hits("/attacker/jwks") == 0)
        }
    }

    /// An embedded `jwk` header carrying the attacker's public key is ignored.
    @Test func embeddedJWKHeaderIsNotTrusted() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.rsaA)
            let claims = Keys.claims(issuer: idp.issuer)

            let embeddedPublished = try Keys.attacker.token(
                claims, kid: Keys.rsaA.kid, extraHeader: ["jwk": Keys.attacker.publicJWK(kid: Keys.rsaA.kid)])
            await expectRejection(.idTokenBadSignature) { try await idp.login(idToken: embeddedPublished) }

            let embeddedOwn = try Keys.attacker.token(claims, extraHeader: ["jwk": Keys.attacker.publicJWK()])
            await expectRejection(.idTokenKeyNotFound) { try await idp.login(idToken: embeddedOwn) }
        }
    }

    /// A key published for encryption (`use: enc`) never verifies a signature.
    @Test func encryptionKeyIsNotUsedForSignatures() async throws {
        try await HostileIdP.with { idp in
            idp.publish([Keys.rsaA.publicJWK(use: "enc")])
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer))
            await expectRejection(.idTokenKeyNotFound) { try await idp.login(idToken: token) }
        }
    }

    /// An RSA token under the `kid` of an EC key: the key cannot do RS256.
    @Test func kidOfAKeyOfAnotherTypeIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(Keys.ec)
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer), kid: Keys.ec.kid)
            await expectRejection(.idTokenAlgorithmMismatch) { try await idp.login(idToken: token) }
        }
    }

    @Test func jwksThatIsNotAKeySetFailsTheLogin() async throws {
        try await HostileIdP.with { idp in
            idp.setJWKS(.raw("<html>maintenance</html>", contentType: "text/html"))
            let token = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer))
            await expectRejection(.malformedResponse) { try await idp.login(idToken: token) }
        }
    }
}
