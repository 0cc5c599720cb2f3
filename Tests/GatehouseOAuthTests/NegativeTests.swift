import Foundation
import GatehouseOAuth
import JWTKit
import Testing

/// Discovery documents and callbacks that must be refused, and the exact wire format of the
/// token request for each client authentication method (what a hostile or merely strict IdP
/// sees).
@Suite struct NegativeTests {
    typealias Keys = TestKeys

    // MARK: Discovery (OIDC Discovery §4.3, RFC 9700 §2.6)

    @Test(arguments: ["https://evil.example", "http://127.0.0.1:1", "slash"])
    func discoveryNamingAnotherIssuerIsRefused(issuer: String) async throws {
        try await HostileIdP.with { idp in
            let named = issuer == "slash" ? idp.issuer + "/" : issuer
            idp.overrideDiscovery(["issuer": .string(named)])
            let client = try idp.client()
            await expectRejection(.discoveryIssuerMismatch) { try await client.metadata() }
            // The login cannot start either, and no token is ever requested.
            await expectRejection(.discoveryIssuerMismatch) { try await client.authorizationRequest() }
            await expectRejection(.discoveryIssuerMismatch) {
                try await client.exchange(idp.callback, pending: HostileIdP.pending)
            }
            #expect(idp.hits("/token") == 0)
        }
    }

    @Test(arguments: ["token_endpoint", "jwks_uri", "authorization_endpoint", "userinfo_endpoint"])
    func plainHTTPEndpointOffLoopbackIsRefused(field: String) async throws {
        try await HostileIdP.with { idp in
            idp.overrideDiscovery([field: .string("http://idp.example/\(field)")])
            await expectRejection(.insecureURL) { try await idp.client().metadata() }
        }
    }

    @Test func discoveryThatIsNotJSONIsMalformed() async throws {
        try await HostileIdP.with { idp in
            idp.setDiscovery(.raw("<html><body>Sign in</body></html>", contentType: "text/html"))
            await expectRejection(.malformedResponse) { try await idp.client().metadata() }
        }
    }

    @Test func discoveryWithoutRequiredFieldsIsMalformed() async throws {
        try await HostileIdP.with { idp in
            idp.setDiscovery(.json(.object(["issuer": .string(idp.issuer)])))
            await expectRejection(.malformedResponse) { try await idp.client().metadata() }
        }
    }

    @Test func discoveryWithoutTheCodeFlowIsMalformed() async throws {
        try await HostileIdP.with { idp in
            idp.overrideDiscovery(["response_types_supported": Keys.strings(["id_token", "token id_token"])])
            await expectRejection(.malformedResponse) { try await idp.client().metadata() }
        }
    }

    @Test func discoveryErrorStatusIsUnexpected() async throws {
        try await HostileIdP.with { idp in
            idp.setDiscovery(.raw("down for maintenance", contentType: "text/plain", status: 503))
            let error = await expectRejection(.unexpectedStatus) { try await idp.client().metadata() }
            #expect(error?.httpStatus == 503)
        }
    }

    // MARK: Callback (RFC 6749 §4.1.2, RFC 9207)

    @Test(arguments: ["state-of-another-login", ""])
    func callbackWithAnotherStateIsRefused(state: String) async throws {
        try await HostileIdP.with { idp in
            let callback = CallbackParameters(code: HostileIdP.code, state: state, issuer: idp.issuer)
            let error = await expectRejection(.stateMismatch) {
                try await idp.client().exchange(callback, pending: HostileIdP.pending)
            }
            IDTokenNegativeTests.expectNoLeak(error, of: [HostileIdP.state, HostileIdP.code])
            let stateless = CallbackParameters(code: HostileIdP.code, state: nil, issuer: idp.issuer)
            await expectRejection(.stateMismatch) { try await idp.client().exchange(stateless, pending: HostileIdP.pending) }
            #expect(idp.hits("/token") == 0)
        }
    }

    @Test func callbackFromAnotherIssuerIsRefused() async throws {
        try await HostileIdP.with { idp in
            let callback = CallbackParameters(code: HostileIdP.code, state: HostileIdP.state, issuer: "https://evil.example")
            await expectRejection(.issuerMismatch) { try await idp.client().exchange(callback, pending: HostileIdP.pending) }
            #expect(idp.hits("/token") == 0)
        }
    }

    @Test func callbackWithoutIssWhenTheProviderPromisesItIsRefused() async throws {
        try await HostileIdP.with { idp in
            idp.overrideDiscovery(["authorization_response_iss_parameter_supported": .bool(true)])
            let callback = CallbackParameters(code: HostileIdP.code, state: HostileIdP.state)
            await expectRejection(.missingIssuer) { try await idp.client().exchange(callback, pending: HostileIdP.pending) }
            #expect(idp.hits("/token") == 0)
        }
    }

    /// RFC 9207 §2.4: when the metadata promises `iss`, a response without it is rejected —
    /// error responses included (§2: `iss` is in "both successful and error responses").
    @Test func errorCallbackWithoutPromisedIssIsRefused() async throws {
        try await HostileIdP.with { idp in
            idp.overrideDiscovery(["authorization_response_iss_parameter_supported": .bool(true)])
            let callback = CallbackParameters(state: HostileIdP.state, error: OAuthErrorResponse(error: "access_denied"))
            // Known deviation: OAuthClient+Token.swift skips the check when `callback.error` is set.
            await expectRejection(.missingIssuer) { try await idp.client().exchange(callback, pending: HostileIdP.pending) }
        }
    }

    @Test func accessDeniedCallbackIsAnAccessDeniedError() async throws {
        try await HostileIdP.with { idp in
            let query = "error=access_denied&error_description=The+user+said+no&state=\(HostileIdP.state)"
            let callback = try CallbackParameters(query: Substring(query))
            let error = await expectRejection(.accessDenied) {
                try await idp.client().exchange(callback, pending: HostileIdP.pending)
            }
            #expect(error?.response?.errorDescription == "The user said no")
            #expect(idp.hits("/token") == 0)
        }
    }

    @Test func callbackWithoutCodeIsRefused() async throws {
        try await HostileIdP.with { idp in
            let callback = CallbackParameters(state: HostileIdP.state, issuer: idp.issuer)
            await expectRejection(.missingCode) { try await idp.client().exchange(callback, pending: HostileIdP.pending) }
        }
    }

    @Test(arguments: [
        "code=a&code=b&state=s",  // RFC 6749 §3.1: no parameter twice
        "code=a&state=s&state=s",
        "code=%zz&state=s",  // broken escapes
        "code=a%2&state=s",
        "code=%&state=s",
        "code=%C3%28&state=s",  // not UTF-8
    ])
    func malformedCallbackQueryIsInvalidRequest(query: String) async {
        await expectRejection(.invalidRequest) { try CallbackParameters(query: Substring(query)) }
    }

    @Test func overlongCallbackParameterIsInvalidRequest() async {
        let query = "code=" + String(repeating: "a", count: 5000) + "&state=s"
        await expectRejection(.invalidRequest) { try CallbackParameters(query: Substring(query)) }
    }

    // MARK: Token request wire format (RFC 6749 §2.3.1, §4.1.3; RFC 7523 §2.2)

    /// An id and a secret with `:` and spaces, which only form-encoding keeps unambiguous.
    static let awkwardClientID = "gatehouse client:1"
    static let awkwardSecret = "p@ss word:x/+"

    /// Logs in with `authentication` and returns the token request the IdP received.
    static func tokenRequest(
        _ idp: HostileIdP, clientID: String, authentication: ClientAuthentication
    ) async throws -> HostileIdP.RecordedRequest {
        idp.publish(Keys.rsaA)
        let idToken = try Keys.rsaA.token(Keys.claims(issuer: idp.issuer, clientID: clientID))
        let result = try await idp.login(idToken: idToken) {
            $0.clientID = clientID
            $0.authentication = authentication
        }
        #expect(result.identity.subject == "user-42")
        let request = try #require(idp.lastTokenRequest)
        #expect(request.method == "POST")
        #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
        return request
    }

    static func expectGrantFields(_ request: HostileIdP.RecordedRequest, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(request.formValue("grant_type") == "authorization_code", sourceLocation: sourceLocation)
        #expect(request.formValue("code") == HostileIdP.code, sourceLocation: sourceLocation)
        #expect(request.formValue("redirect_uri") == HostileIdP.redirectURI, sourceLocation: sourceLocation)
        #expect(request.formValue("code_verifier") == HostileIdP.codeVerifier, sourceLocation: sourceLocation)
    }

    @Test func clientSecretBasicFormEncodesIDAndSecretInTheHeaderOnly() async throws {
        try await HostileIdP.with { idp in
            let request = try await Self.tokenRequest(
                idp, clientID: Self.awkwardClientID, authentication: .clientSecretBasic(Self.awkwardSecret))
            // base64(urlencode(id) ":" urlencode(secret)), spelled out by hand.
            let credentials = "gatehouse+client%3A1:p%40ss+word%3Ax%2F%2B"
            #expect(request.headers["authorization"] == "Basic " + Data(credentials.utf8).base64EncodedString())
            Self.expectGrantFields(request)
            #expect(request.form?.map(\.0) == ["grant_type", "code", "redirect_uri", "code_verifier"])
            #expect(!request.body.contains("p%40ss"))
        }
    }

    /// `.clientSecret`: the method follows the provider's `token_endpoint_auth_methods_supported`
    /// (basic when listed or when the list is absent — OpenID Connect Discovery's default).
    @Test(arguments: [
        (nil, "basic"), (["client_secret_post"], "post"), (["client_secret_post", "client_secret_basic"], "basic"),
        (["private_key_jwt", "client_secret_post"], "post"), (["private_key_jwt"], "basic"),
    ] as [([String]?, String)])
    func clientSecretFollowsTheProvidersMetadata(supported: [String]?, expected: String) async throws {
        try await HostileIdP.with { idp in
            idp.overrideDiscovery(["token_endpoint_auth_methods_supported": supported.map { .array($0.map { .string($0) }) } ?? .null])
            let request = try await Self.tokenRequest(
                idp, clientID: Self.awkwardClientID, authentication: .clientSecret(Self.awkwardSecret))
            Self.expectGrantFields(request)
            if expected == "basic" {
                #expect(request.headers["authorization"]?.hasPrefix("Basic ") == true)
                #expect(request.formValue("client_secret") == nil)
            } else {
                #expect(request.headers["authorization"] == nil)
                #expect(request.formValue("client_secret") == Self.awkwardSecret)
            }
        }
    }

    @Test func clientSecretPostPutsTheCredentialsInTheBody() async throws {
        try await HostileIdP.with { idp in
            let request = try await Self.tokenRequest(
                idp, clientID: Self.awkwardClientID, authentication: .clientSecretPost(Self.awkwardSecret))
            #expect(request.headers["authorization"] == nil)
            Self.expectGrantFields(request)
            #expect(request.formValue("client_id") == Self.awkwardClientID)
            #expect(request.formValue("client_secret") == Self.awkwardSecret)
            #expect(request.form?.count == 6)
        }
    }

    @Test func publicClientSendsOnlyItsID() async throws {
        try await HostileIdP.with { idp in
            let request = try await Self.tokenRequest(idp, clientID: HostileIdP.clientID, authentication: .none)
            #expect(request.headers["authorization"] == nil)
            Self.expectGrantFields(request)
            #expect(request.formValue("client_id") == HostileIdP.clientID)
            #expect(request.formValue("client_secret") == nil)
        }
    }

    @Test func privateKeyJWTSendsAnAssertionSignedByTheClientKey() async throws {
        try await HostileIdP.with { idp in
            let signing = JWTKeyCollection()
            try await Keys.client.addTo(signing)
            let request = try await Self.tokenRequest(
                idp, clientID: HostileIdP.clientID,
                authentication: .privateKeyJWT(keys: signing, keyID: Keys.client.kid))
            #expect(request.headers["authorization"] == nil)
            Self.expectGrantFields(request)
            #expect(request.formValue("client_id") == HostileIdP.clientID)
            #expect(request.formValue("client_secret") == nil)
            #expect(request.formValue("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            let assertion = try #require(request.formValue("client_assertion"))

            // The signature verifies with the client's public key, and only with it.
            let payload = try await Self.verify(assertion, with: Keys.client).values
            #expect(payload["iss"] == .string(HostileIdP.clientID))
            #expect(payload["sub"] == .string(HostileIdP.clientID))
            #expect(payload["aud"] == .string(idp.issuer))
            #expect(payload["iat"] == .number(HostileIdP.now.timeIntervalSince1970))
            #expect((payload["exp"]?.numberValue ?? 0) > HostileIdP.now.timeIntervalSince1970)
            #expect(payload["jti"]?.stringValue?.isEmpty == false)
            await #expect(throws: (any Error).self) { try await Self.verify(assertion, with: Keys.attacker) }

            let headerPart = try #require(assertion.split(separator: ".").first)
            let header = try JSONDecoder().decode(
                [String: JSONValue].self, from: Data(try #require(Keys.base64URLDecode(headerPart))))
            #expect(header["alg"] == .string("RS256"))
            #expect(header["kid"] == .string(Keys.client.kid))
        }
    }

    /// Verifies a JWT with only `key`'s public half in the collection (so jwt-kit's
    /// default-key fallback cannot pick anything else).
    static func verify(_ jwt: String, with key: TestKey) async throws -> TestKeys.Claims {
        guard case .rsa(let privateKey) = key.material else { throw TestKeys.Failure("not RSA") }
        let verifying = JWTKeyCollection()
        await verifying.add(
            rsa: try Insecure.RSA.PublicKey(backing: privateKey.publicKey), digestAlgorithm: .sha256,
            kid: JWKIdentifier(string: key.kid))
        return try await verifying.verify(jwt, as: TestKeys.Claims.self)
    }
}
