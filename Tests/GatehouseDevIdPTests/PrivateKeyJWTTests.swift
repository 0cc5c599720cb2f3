import Foundation
import GatehouseDevIdP
import GatehouseOAuth
import JWTKit
import Testing

/// `private_key_jwt` (RFC 7523 §2.2) end to end: our `OAuthClient` signs client assertions
/// with `ClientSigningKey` (RSA or P-256, from PEM) and the development IdP verifies them
/// against the registered public key, with iss/sub/aud/exp/jti checks.
@Suite("Dev IdP private_key_jwt")
struct PrivateKeyJWTTests {
    static func rsaKey() throws -> (privatePEM: String, publicPEM: String) {
        let key = try Insecure.RSA.PrivateKey(backing: .init(keySize: .bits2048))
        return (key.pemRepresentation, key.publicKey.pemRepresentation)
    }

    static func p256Key() -> (privatePEM: String, publicPEM: String) {
        let key = ES256PrivateKey()
        return (key.pemRepresentation, key.publicKey.pemRepresentation)
    }

    static func register(_ fixture: IdPFixture, id: String, publicPEM: String) {
        fixture.idp.register(
            RegisteredClient(id: id, secret: nil, redirectURIs: [IdPFixture.redirectURI], assertionKeyPEM: publicPEM))
    }

    @Test(arguments: [PrivateKeyJWT.Audience.issuer, .tokenEndpoint])
    func rsaSignedAssertionLogsIn(audience: PrivateKeyJWT.Audience) async throws {
        let key = try Self.rsaKey()
        try await IdPFixture.with { fixture in
            Self.register(fixture, id: "jwt-client", publicPEM: key.publicPEM)
            let signing = try ClientSigningKey(pem: key.privatePEM)
            #expect(signing.algorithm == "RS256")
            #expect(signing.keyID.count == 43)  // the RFC 7638 thumbprint
            let client = try fixture.client("jwt-client", authentication: .privateKeyJWT(key: signing, audience: audience))
            let result = try await fixture.logIn(client)
            #expect(result.identity.subject == "alice")
            #expect(result.tokens.refreshToken != nil)
            // Refresh authenticates the same way.
            let refreshed = try await client.refresh(result.tokens, subject: "alice")
            #expect(refreshed.accessToken != result.tokens.accessToken)
        }
    }

    @Test func p256SignedAssertionLogsIn() async throws {
        let key = Self.p256Key()
        try await IdPFixture.with { fixture in
            Self.register(fixture, id: "ec-jwt-client", publicPEM: key.publicPEM)
            let signing = try ClientSigningKey(pem: key.privatePEM, keyID: "my-key")
            #expect(signing.algorithm == "ES256" && signing.keyID == "my-key")
            let client = try fixture.client("ec-jwt-client", authentication: .privateKeyJWT(key: signing))
            #expect(try await fixture.logIn(client).identity.subject == "alice")
        }
    }

    @Test func anotherKeyOrASecretIsRefused() async throws {
        let registered = try Self.rsaKey()
        let other = try Self.rsaKey()
        try await IdPFixture.with { fixture in
            Self.register(fixture, id: "jwt-client", publicPEM: registered.publicPEM)
            let wrongKey = try fixture.client(
                "jwt-client", authentication: .privateKeyJWT(key: try ClientSigningKey(pem: other.privatePEM)))
            await #expect { _ = try await fixture.logIn(wrongKey) } throws: { ($0 as? OAuthError)?.code == .invalidClient }
            let secret = try fixture.client("jwt-client", authentication: .clientSecretBasic("guess"))
            await #expect { _ = try await fixture.logIn(secret) } throws: { ($0 as? OAuthError)?.code == .invalidClient }
        }
    }

    /// RFC 7523 §3: a `jti` is single use.
    @Test func aReplayedAssertionIsRefused() async throws {
        let key = try Self.rsaKey()
        try await IdPFixture.with { fixture in
            Self.register(fixture, id: "jwt-client", publicPEM: key.publicPEM)
            let keys = JWTKeyCollection()
            await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: key.privatePEM), digestAlgorithm: .sha256)
            struct Claims: JWTPayload {
                var iss: String, sub: String, aud: String, jti: String, exp: Int
                func verify(using algorithm: some JWTAlgorithm) async throws {}
            }
            let exp = Int(Date().timeIntervalSince1970) + 60
            let assertion = try await keys.sign(
                Claims(iss: "jwt-client", sub: "jwt-client", aud: fixture.issuer, jti: "once", exp: exp))
            func post() async throws -> (status: Int, error: String?) {
                let (code, pending) = try await fixture.code(try fixture.client("jwt-client", authentication: ClientAuthentication.none))
                let answer = try await fixture.assertionTokenRequest([
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", IdPFixture.redirectURI),
                    ("code_verifier", pending.codeVerifier), ("client_id", "jwt-client"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion),
                ])
                return (answer.status, answer.json["error"])
            }
            #expect(try await post().status == 200)
            let replay = try await post()
            #expect(replay.status == 401 && replay.error == "invalid_client")
        }
    }

    @Test func aKeyThatIsNotAPrivateKeyIsAConfigurationError() throws {
        #expect(throws: OAuthError.self) { try ClientSigningKey(pem: "not a key") }
        #expect(throws: OAuthError.self) { try ClientSigningKey(pem: try Self.rsaKey().publicPEM) }
    }
}
