import Foundation
import GatehouseTesting
import GatehouseDevIdP
import GatehouseOAuth
import GatehouseTestSupport
import Testing

/// The FAPI 2.0 Security Profile switch (``SecurityProfile/fapi2``): what it forces, what it
/// refuses, a whole login under it against the development IdP (PAR, DPoP, PS256 or ES256
/// client assertions, ES256 ID tokens, the RFC 9207 `iss`), and what it finds missing in a
/// provider's metadata.
@Suite("FAPI 2.0 profile")
struct SecurityProfileTests {
    static func configuration(_ authentication: ClientAuthentication) -> OAuthClient.Configuration {
        var configuration = OAuthClient.Configuration(
            clientID: "fapi-client", authentication: authentication, redirectURI: IdPFixture.redirectURI,
            scopes: ["openid", "email"])
        configuration.profile = .fapi2
        return configuration
    }

    @Test func theProfileForcesPARDPoPAndTheIssuerAndRefusesWhatItForbids() throws {
        let rsa = try ClientSigningKey(pem: try PrivateKeyJWTTests.rsaKey().privatePEM)
        #expect(rsa.algorithm == "RS256" && rsa.usingPSS().algorithm == "PS256")
        let ec = try ClientSigningKey(pem: PrivateKeyJWTTests.p256Key().privatePEM)
        #expect(ec.usingPSS().algorithm == "ES256")

        let applied = try SecurityProfile.fapi2.applied(to: Self.configuration(.privateKeyJWT(key: rsa.usingPSS())))
        #expect(applied.pushedAuthorization == .always && applied.usesDPoP && applied.requiresIssuerParameter)
        #expect(applied.algorithms == ["PS256", "ES256"])

        var refused: [OAuthClient.Configuration] = [
            Self.configuration(.clientSecretBasic("s")), Self.configuration(.clientSecretPost("s")),
            Self.configuration(.clientSecret("s")), Self.configuration(.none),
            Self.configuration(.privateKeyJWT(key: rsa)),
        ]
        var never = Self.configuration(.privateKeyJWT(key: ec))
        never.pushedAuthorization = .never
        refused.append(never)
        var rs256Only = Self.configuration(.privateKeyJWT(key: ec))
        rs256Only.algorithms = ["RS256"]
        refused.append(rs256Only)
        for configuration in refused {
            #expect(throws: OAuthError.self, "\(configuration.authentication.methodName)") {
                _ = try OAuthClient(provider: .oidc(issuer: "https://idp.example"), configuration: configuration)
            }
        }
        // The client made with the profile has its settings applied.
        let client = try OAuthClient(
            provider: .oidc(issuer: "https://idp.example"), configuration: Self.configuration(.privateKeyJWT(key: ec)))
        #expect(client.configuration.usesDPoP && client.configuration.pushedAuthorization == .always)
    }

    /// A whole login under the profile: the browser carries only `client_id` and `request_uri`,
    /// the pushed request names the DPoP key, the client assertion is PS256 (an RSA key) or
    /// ES256, the tokens come back DPoP-bound, the ID token is ES256.
    @Test(arguments: ["rsa", "ec"])
    func aLoginUnderTheProfile(_ keyType: String) async throws {
        let pems = keyType == "rsa" ? try PrivateKeyJWTTests.rsaKey() : PrivateKeyJWTTests.p256Key()
        try await IdPFixture.with { fixture in
            fixture.idp.register(
                RegisteredClient(
                    id: "fapi-client", secret: nil, redirectURIs: [IdPFixture.redirectURI], idTokenAlgorithm: .es256,
                    assertionKeyPEM: pems.publicPEM))
            let key = try ClientSigningKey(pem: pems.privatePEM).usingPSS()
            let client = try OAuthClient(
                provider: .oidc(issuer: fixture.issuer), configuration: Self.configuration(.privateKeyJWT(key: key)))
            #expect(client.configuration.authentication.signingAlgorithm == (keyType == "rsa" ? "PS256" : "ES256"))
            let request = try await client.authorizationRequest()
            #expect(Set(TestBrowser.query(request.url).keys) == ["client_id", "request_uri"])
            let callback = try await TestBrowser().signIn(at: request.url, username: "alice", password: "alice")
            let result = try await client.exchange(
                CallbackParameters(query: Substring(callback.query ?? "")), pending: request.pending)
            #expect(result.tokens.tokenType == "DPoP" && result.tokens.dpopKey == request.pending.dpopKey)
            #expect(result.idToken.map { JWTParts.header($0.rawValue)?["alg"] as? String } == "ES256")
            #expect(try await client.refresh(result.tokens).dpopKey == request.pending.dpopKey)

            let metadata = try await client.metadata()
            #expect(SecurityProfile.fapi2.shortcomings(of: metadata, clientAlgorithm: key.algorithm) == [])
        }
    }

    /// The RFC 9207 `iss` is required under the profile even from a provider that does not
    /// promise it; RS256 ID tokens are refused.
    @Test func aCallbackWithoutIssOrAnRS256IDTokenFails() async throws {
        let pems = PrivateKeyJWTTests.p256Key()
        try await IdPFixture.with { fixture in
            for (id, algorithm) in [("fapi-es", RegisteredClient.SigningAlgorithm.es256), ("fapi-rs", .rs256)] {
                fixture.idp.register(
                    RegisteredClient(
                        id: id, secret: nil, redirectURIs: [IdPFixture.redirectURI], idTokenAlgorithm: algorithm,
                        assertionKeyPEM: pems.publicPEM))
            }
            func client(_ id: String) throws -> OAuthClient {
                var configuration = Self.configuration(.privateKeyJWT(key: try ClientSigningKey(pem: pems.privatePEM)))
                configuration.clientID = id
                return try OAuthClient(provider: .oidc(issuer: fixture.issuer), configuration: configuration)
            }
            let fapi = try client("fapi-es")
            let request = try await fapi.authorizationRequest()
            let callback = try await TestBrowser().signIn(at: request.url, username: "alice", password: "alice")
            let withoutIss = TestBrowser.query(callback).filter { $0.key != "iss" }
            #expect(withoutIss.count < TestBrowser.query(callback).count, "the IdP sends iss")
            await #expect(throws: OAuthError.self) {
                _ = try await fapi.exchange(
                    CallbackParameters(query: Substring(TestBrowser.encode(withoutIss.map { ($0.key, $0.value) }))),
                    pending: request.pending)
            }
            let rs = try client("fapi-rs")
            let rsRequest = try await rs.authorizationRequest()
            let rsCallback = try await TestBrowser().signIn(at: rsRequest.url, username: "alice", password: "alice")
            do {
                _ = try await rs.exchange(CallbackParameters(query: Substring(rsCallback.query ?? "")), pending: rsRequest.pending)
                Issue.record("an RS256 ID token was accepted under FAPI 2.0")
            } catch {
                #expect("\(error)".contains("alg") || "\(error)".contains("algorithm"), "\(error)")
            }
        }
    }
}
