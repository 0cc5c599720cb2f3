import Foundation
import GatehouseOAuth
import Testing

/// What the token endpoint can answer instead of tokens — broken bodies, wrong media types,
/// huge or slow answers and every RFC 6749 §5.2 error — each through `OAuthClient.exchange`.
@Suite struct TokenEndpointNegativeTests {
    typealias Reply = HostileIdP.Reply

    /// Exchanges the standard callback with the token endpoint answering `reply`.
    static func exchange(
        _ idp: HostileIdP,
        _ reply: Reply,
        configure: (inout OAuthClient.Configuration) -> Void = { _ in }
    ) async throws -> LoginResult {
        idp.setToken(reply)
        return try await idp.client(configure: configure).exchange(idp.callback, pending: HostileIdP.pending)
    }

    // MARK: Bodies that are not a token response

    @Test(arguments: [
        #"{"access_token": "at-1", "token_type": "#,
        #"[{"access_token": "at-1", "token_type": "Bearer"}]"#,
        #""at-1""#,
        "",
        "null",
    ])
    func bodyThatIsNotAJSONObjectIsMalformed(body: String) async throws {
        try await HostileIdP.with { idp in
            await expectRejection(.malformedResponse) { try await Self.exchange(idp, .raw(body)) }
        }
    }

    @Test func htmlPageWithStatus200IsMalformed() async throws {
        try await HostileIdP.with { idp in
            let page = "<html><body>Welcome! access_token=at-leaked-in-html</body></html>"
            let error = await expectRejection(.malformedResponse) {
                try await Self.exchange(idp, .raw(page, contentType: "text/html; charset=utf-8"))
            }
            #expect(error?.httpStatus == 200)
            // A 2xx body may hold tokens: it is never quoted.
            #expect(error?.bodyExcerpt == nil)
            IDTokenNegativeTests.expectNoLeak(error, of: ["at-leaked-in-html", HostileIdP.clientSecret, HostileIdP.code])
        }
    }

    @Test func htmlPageWithStatus500IsAnUnexpectedStatus() async throws {
        try await HostileIdP.with { idp in
            let page = "<html><body><h1>Internal Server Error</h1></body></html>"
            let error = await expectRejection(.unexpectedStatus) {
                try await Self.exchange(idp, .raw(page, contentType: "text/html", status: 500))
            }
            #expect(error?.httpStatus == 500)
            #expect(error?.bodyExcerpt?.contains("Internal Server Error") == true)
            #expect(error?.response == nil)
        }
    }

    @Test func jsonWithoutAnErrorOn400IsAnUnexpectedStatus() async throws {
        try await HostileIdP.with { idp in
            let error = await expectRejection(.unexpectedStatus) {
                try await Self.exchange(idp, .raw(#"{"message": "nope"}"#, status: 400))
            }
            #expect(error?.httpStatus == 400)
        }
    }

    @Test(arguments: [
        (#"{"token_type": "Bearer"}"#, "access_token"),
        (#"{"access_token": "", "token_type": "Bearer"}"#, "access_token"),
        (#"{"access_token": 42, "token_type": "Bearer"}"#, "access_token"),
        (#"{"access_token": "at-1"}"#, "token_type"),
        (#"{"access_token": "at-1", "token_type": "Bearer", "expires_in": -5}"#, "expires_in"),
        (#"{"access_token": "at-1", "token_type": "Bearer", "refresh_token": 7}"#, "refresh_token"),
    ])
    func successWithoutUsableFieldsIsMalformed(body: String, field: String) async throws {
        try await HostileIdP.with { idp in
            let error = await expectRejection(.malformedResponse) { try await Self.exchange(idp, .raw(body)) }
            #expect(error?.message.contains(field) == true, "\(String(describing: error))")
            IDTokenNegativeTests.expectNoLeak(error, of: ["at-1"])
        }
    }

    @Test func successWithoutAnIDTokenFailsAnOpenIDLogin() async throws {
        try await HostileIdP.with { idp in
            await expectRejection(.idTokenMissing) { try await Self.exchange(idp, .tokens(idToken: nil)) }
        }
    }

    // MARK: Size and time limits

    @Test(arguments: [false, true])
    func oversizedBodyIsRefused(chunked: Bool) async throws {
        try await HostileIdP.with { idp in
            let padding = String(repeating: "x", count: 8192)
            var reply = Reply.raw(#"{"access_token": "at-1", "token_type": "Bearer", "pad": "\#(padding)"}"#)
            reply.chunked = chunked
            await expectRejection(.responseTooLarge) {
                try await Self.exchange(idp, reply) { $0.maxResponseBytes = 4096 }
            }
        }
    }

    @Test func slowTokenEndpointTimesOut() async throws {
        try await HostileIdP.with { idp in
            var reply = Reply.tokens(idToken: nil)
            reply.delay = .seconds(30)
            idp.setToken(reply)
            let client = try idp.client { $0.timeout = .seconds(1) }
            // Discovery first, so that only the token call is timed; on a loaded machine it may
            // itself miss the 1-second deadline, so it is tried again (a CI run saw it do so).
            for attempt in 1...5 {
                do {
                    _ = try await client.metadata()
                    break
                } catch where attempt < 5 {
                    continue
                }
            }
            let clock = ContinuousClock()
            let started = clock.now
            let error = await expectRejection(.timeout) {
                try await client.exchange(idp.callback, pending: HostileIdP.pending)
            }
            let elapsed = clock.now - started
            #expect(elapsed >= .milliseconds(900))
            #expect(elapsed < .seconds(10), "the deadline took \(elapsed)")  // loose: CI load; the delay is 30 s
            IDTokenNegativeTests.expectNoLeak(error, of: [HostileIdP.clientSecret, HostileIdP.code, HostileIdP.codeVerifier])
        }
    }

    // MARK: RFC 6749 §5.2 errors

    @Test(arguments: [
        ("invalid_request", 400, OAuthError.Code.invalidRequest),
        ("invalid_client", 401, OAuthError.Code.invalidClient),
        ("invalid_grant", 400, OAuthError.Code.invalidGrant),
        ("unauthorized_client", 400, OAuthError.Code.unauthorizedClient),
        ("unsupported_grant_type", 400, OAuthError.Code.unsupportedGrantType),
        ("invalid_scope", 400, OAuthError.Code.invalidScope),
    ])
    func oauthErrorHasItsOwnCode(error name: String, status: Int, code: OAuthError.Code) async throws {
        try await HostileIdP.with { idp in
            var reply = Reply.oauthError(name, description: "Details about \(name).", status: status)
            if status == 401 { reply.wwwAuthenticate = #"Basic realm="idp""# }
            let error = await expectRejection(code) { try await Self.exchange(idp, reply) }
            #expect(error?.response?.error == name)
            #expect(error?.response?.errorDescription == "Details about \(name).")
            #expect(error?.httpStatus == status)
            #expect(error?.code.rawValue == name)
            IDTokenNegativeTests.expectNoLeak(
                error, of: [HostileIdP.clientSecret, HostileIdP.code, HostileIdP.codeVerifier])
        }
    }

    @Test func unknownErrorIsOtherOAuthErrorWithTheResponseKept() async throws {
        try await HostileIdP.with { idp in
            let reply = Reply.json(
                .object([
                    "error": .string("consent_revoked"), "error_description": .string("The user revoked consent."),
                    "error_uri": .string("https://idp.example/errors/consent"),
                ]), status: 400)
            let error = await expectRejection(.otherOAuthError) { try await Self.exchange(idp, reply) }
            #expect(error?.response?.error == "consent_revoked")
            #expect(error?.response?.errorDescription == "The user revoked consent.")
            #expect(error?.response?.errorURI == "https://idp.example/errors/consent")
        }
    }

    /// GitHub answers a bad code with 200 and an `error` field.
    @Test func errorInsideA200IsStillAnError() async throws {
        try await HostileIdP.with { idp in
            let reply = Reply.json(
                .object([
                    "error": .string("bad_verification_code"),
                    "error_description": .string("The code passed is incorrect or expired."),
                ]))
            let error = await expectRejection(.otherOAuthError) { try await Self.exchange(idp, reply) }
            #expect(error?.httpStatus == 200)
            #expect(error?.response?.error == "bad_verification_code")
            #expect(error?.response?.errorDescription == "The code passed is incorrect or expired.")
        }
    }

    /// Control characters in an IdP's description never reach a log line raw.
    @Test func errorDescriptionIsSanitisedInTheMessageButKeptInTheResponse() async throws {
        try await HostileIdP.with { idp in
            let description = "bad\r\nX-Injected: 1\u{7}"
            let error = await expectRejection(.invalidGrant) {
                try await Self.exchange(idp, .oauthError("invalid_grant", description: description))
            }
            #expect(error?.response?.errorDescription == description)
            #expect(error?.message.contains("\n") == false)
            #expect(error?.message.contains("\r") == false)
        }
    }

    // MARK: Refresh (RFC 6749 §6, OIDC Core §12.2)

    @Test func refreshedIDTokenNamingAnotherSubjectIsRejected() async throws {
        try await HostileIdP.with { idp in
            idp.publish(TestKeys.rsaA)
            let idToken = try TestKeys.rsaA.token(TestKeys.claims(issuer: idp.issuer, nonce: nil, subject: "user-99"))
            idp.setToken(
                .json(
                    .object([
                        "access_token": .string("at-new"), "token_type": .string("Bearer"),
                        "refresh_token": .string("rt-new"), "id_token": .string(idToken),
                    ])))
            let client = try idp.client()
            let current = TokenSet(accessToken: "at-old", refreshToken: "rt-old")
            let error = await expectRejection(.idTokenSubjectChanged) { try await client.refresh(current, subject: "user-42") }
            IDTokenNegativeTests.expectNoLeak(error, of: ["rt-old", "rt-new", "at-new", idToken])
            let request = try #require(idp.lastTokenRequest)
            #expect(request.formValue("grant_type") == "refresh_token")
            #expect(request.formValue("refresh_token") == "rt-old")
        }
    }

    @Test func refreshWithARevokedTokenIsInvalidGrant() async throws {
        try await HostileIdP.with { idp in
            idp.setToken(.oauthError("invalid_grant", description: "Token has been revoked."))
            let current = TokenSet(accessToken: "at-old", refreshToken: "rt-revoked")
            let error = await expectRejection(.invalidGrant) { try await idp.client().refresh(current) }
            #expect(error?.response?.errorDescription == "Token has been revoked.")
            IDTokenNegativeTests.expectNoLeak(error, of: ["rt-revoked", HostileIdP.clientSecret])
        }
    }

    // MARK: Redirects

    /// RFC 6749 §5.1 success is a 200; a token endpoint that redirects must not make the client
    /// re-send the code, the PKCE verifier and its credentials to wherever `Location` points
    /// (here: another origin). AsyncHTTPClient strips `Authorization` across origins but keeps
    /// the body, so `client_secret_post` is the revealing case.
    @Test func redirectFromTheTokenEndpointIsNotFollowed() async throws {
        try await HostileIdP.with { idp in
            try await HostileIdP.with { elsewhere in
                var reply = Reply.raw("", contentType: nil, status: 307)
                reply.location = elsewhere.issuer + "/token"
                elsewhere.setToken(.tokens(idToken: nil))
                await expectRejection(.unexpectedStatus) {
                    try await Self.exchange(idp, reply) { $0.authentication = .clientSecretPost(HostileIdP.clientSecret) }
                }
                #expect(elsewhere.hits("/token") == 0)
                #expect(elsewhere.lastTokenRequest?.formValue("client_secret") == nil)
            }
        }
    }

    // MARK: Other encodings

    @Test func formEncodedSuccessParses() async throws {
        try await HostileIdP.with { idp in
            idp.publish(TestKeys.rsaA)
            let idToken = try TestKeys.rsaA.token(TestKeys.claims(issuer: idp.issuer))
            let body = "access_token=at-form%2B1&token_type=bearer&scope=read%3Auser+openid&expires_in=60&id_token=\(idToken)"
            let result = try await Self.exchange(idp, .raw(body, contentType: "application/x-www-form-urlencoded"))
            #expect(result.tokens.accessToken == "at-form+1")
            #expect(result.tokens.tokenType == "bearer")
            #expect(result.tokens.scope == ["read:user", "openid"])
            #expect(result.tokens.expiresAt == HostileIdP.now.addingTimeInterval(60))
            #expect(result.identity.subject == "user-42")
        }
    }

    @Test func formEncodedErrorIsAnOAuthError() async throws {
        try await HostileIdP.with { idp in
            let body = "error=invalid_grant&error_description=The+code+was+already+used"
            let error = await expectRejection(.invalidGrant) {
                try await Self.exchange(idp, .raw(body, contentType: "application/x-www-form-urlencoded", status: 400))
            }
            #expect(error?.response?.errorDescription == "The code was already used")
        }
    }
}
