import Foundation

extension OAuthClient {
    /// Sends a grant to the token endpoint with client authentication and processes the answer.
    func tokenRequest(
        _ form: [(String, String?)], metadata: ProviderMetadata, dpop: DPoPKey? = nil
    ) async throws(OAuthError) -> TokenSet {
        var retriedWithNonce = false
        while true {
            var body = form
            var headers: [(String, String)] = [("Content-Type", "application/x-www-form-urlencoded")]
            // A new client assertion each time: its jti is single use.
            try await configuration.authentication.apply(
                clientID: configuration.clientID, metadata: metadata, now: clock.now, form: &body, headers: &headers)
            if let dpop {
                headers.append(
                    ("DPoP", try dpopProof(dpop, method: "POST", url: metadata.tokenEndpoint, nonce: dpopNonce.withLock { $0 })))
            }
            let response = try await transport.send(
                .POST, metadata.tokenEndpoint, headers: headers, body: Array(FormEncoding.encode(body).utf8),
                endpoint: "token endpoint")
            logger.debug("token endpoint answered", metadata: ["status": "\(response.status)"])
            if dpop != nil, let nonce = response.headers.first(name: "dpop-nonce"), !nonce.isEmpty {
                dpopNonce.withLock { $0 = nonce }
                // RFC 9449 §8: `use_dpop_nonce` asks for one more try with the nonce just given.
                if !retriedWithNonce, response.status == 400, TokenResponse.errorCode(response) == "use_dpop_nonce" {
                    retriedWithNonce = true
                    continue
                }
            }
            var tokens = try TokenResponse.process(response, receivedAt: clock.now)
            if let dpop {
                guard tokens.tokenType.lowercased() == "dpop" else {
                    throw OAuthError(
                        .dpopNotBound, "the provider answered a DPoP-bound token request with a \(tokens.tokenType) token")
                }
                tokens.dpopKey = dpop
            }
            return tokens
        }
    }

    /// A DPoP proof of `key` for `method` `url` with `nonce`: the authorization server's
    /// latest (``dpopNonce``) or a resource's.
    func dpopProof(_ key: DPoPKey, method: String, url: String, accessToken: String? = nil, nonce: String?)
        throws(OAuthError) -> String
    {
        do {
            return try key.proof(method: method, url: url, accessToken: accessToken, nonce: nonce, now: clock.now)
        } catch {
            throw OAuthError(.invalidConfiguration, "the DPoP proof could not be signed")
        }
    }

    /// Completes a login: checks the callback against the pending authorization, exchanges the
    /// code (with the PKCE verifier and the same `redirect_uri`), and validates the ID token.
    ///
    /// Checks, in order: `state` (constant time), RFC 9207 `iss` (required when the provider
    /// advertises it), an `error` response, the presence of `code`.
    ///
    /// With `dpop` (by default the pending authorization's own ``PendingAuthorization/dpopKey``),
    /// the code is redeemed with a DPoP proof of that key (RFC 9449) and the tokens must come
    /// back bound to it (`token_type: DPoP`); ``TokenSet/dpopKey`` keeps it.
    public func exchange(
        _ callback: CallbackParameters, pending: PendingAuthorization, dpop: DPoPKey? = nil
    ) async throws(OAuthError) -> LoginResult {
        let dpop = dpop ?? pending.dpopKey
        let metadata = try await metadata()
        guard let state = callback.state, constantTimeEqual(state, pending.state) else {
            throw OAuthError(.stateMismatch, "the callback's state is not the one this login sent")
        }
        if let issuer = callback.issuer {
            guard provider.issuerPolicy.acceptsAuthorizationResponse(issuer: issuer, discovered: metadata.issuer) else {
                throw OAuthError(.issuerMismatch, "the callback's iss names a different authorization server (RFC 9207)")
            }
        } else if metadata.authorizationResponseIssParameterSupported == true || configuration.requiresIssuerParameter {
            // RFC 9207 §2.4: error responses too; the IdP's error stays attached for the page.
            throw OAuthError(
                .missingIssuer,
                configuration.requiresIssuerParameter
                    ? "the callback has no iss parameter (RFC 9207), which this client requires"
                    : "the provider promises an iss parameter (RFC 9207) but the callback has none",
                response: callback.error)
        }
        if let error = callback.error {
            throw OAuthError.fromResponse(error, httpStatus: nil)
        }
        guard let code = callback.code, !code.isEmpty else {
            throw OAuthError(.missingCode, "the callback has no authorization code")
        }
        let tokens = try await tokenRequest(
            [
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", pending.redirectURI),
                ("code_verifier", pending.codeVerifier),
            ],
            metadata: metadata, dpop: dpop)

        switch provider.identitySource {
        case .idToken:
            guard let rawIDToken = tokens.idToken else {
                throw OAuthError(.idTokenMissing, "the token response has no id_token although openid was requested")
            }
            let idToken = try await validateIDToken(
                rawIDToken, metadata: metadata, nonce: pending.nonce, accessToken: tokens.accessToken, subject: nil)
            var identity = Identity(idToken: idToken, emailVerification: provider.emailVerification)
            identity.retain(configuration.retainedClaims, from: idToken.claims.all)
            if configuration.fetchUserInfo {
                let claims = try await userInfo(accessToken: tokens.accessToken, subject: idToken.claims.subject, dpop: dpop)
                identity = identity.completed(byUserInfo: claims, emailVerification: provider.emailVerification)
                // What the ID token stated wins, as for the other claims.
                identity.retain(configuration.retainedClaims.filter { identity.claims[$0] == nil }, from: claims)
            } else if metadata.userInfoEndpoint != nil,
                Self.idTokenLeavesOutClaims(idToken.claims, scopes: tokens.scope ?? scopes)
            {
                // Best effort: without the extra claims the login still stands (access rules that
                // need them refuse it), but a userinfo answer about someone else never does.
                do {
                    let claims = try await userInfo(accessToken: tokens.accessToken, subject: idToken.claims.subject, dpop: dpop)
                    identity = identity.completed(byUserInfo: claims, emailVerification: provider.emailVerification)
                } catch where error.code == .userInfoSubjectMismatch {
                    throw error
                } catch {
                    logger.warning(
                        "userinfo could not complete the identity; using the ID token's claims",
                        metadata: ["error": "\(error.code)"])
                }
            }
            return LoginResult(tokens: tokens, idToken: idToken, identity: identity)
        case .gitHub(let apiBaseURL):
            let identity = try await gitHubIdentity(accessToken: tokens.accessToken, apiBaseURL: apiBaseURL, issuer: metadata.issuer)
            return LoginResult(tokens: tokens, idToken: nil, identity: identity)
        }
    }

    /// Whether an ID token lacks claims its scopes stand for: OpenID Connect Core §5.4 lets a
    /// provider that issues an access token return `profile`, `email` (and, by custom,
    /// `groups`) claims from userinfo only (Zitadel's default, Okta's thin ID tokens). Then the
    /// login asks userinfo once; otherwise it does not.
    static func idTokenLeavesOutClaims(_ claims: IDTokenClaims, scopes: [String]) -> Bool {
        let present = claims.all
        if scopes.contains("email"), present["email"] == nil { return true }
        if scopes.contains("profile"), present["name"] == nil, present["preferred_username"] == nil { return true }
        if scopes.contains("groups"), present["groups"] == nil { return true }
        return false
    }

    /// Uses a refresh token (RFC 6749 §6). A new ID token in the answer is validated and must
    /// name the same `subject` (OIDC Core §12.2). The result keeps the old refresh token when the
    /// provider does not rotate it. `invalid_grant` means the session is over.
    ///
    /// A DPoP-bound token set is refreshed with a proof of the same key: `dpop`, by default
    /// ``TokenSet/dpopKey``.
    public func refresh(_ tokens: TokenSet, subject: String? = nil, dpop: DPoPKey? = nil) async throws(OAuthError) -> TokenSet {
        let dpop = dpop ?? tokens.dpopKey
        guard let refreshToken = tokens.refreshToken else {
            throw OAuthError(.invalidGrant, "there is no refresh token to use")
        }
        let metadata = try await metadata()
        let refreshed = try await tokenRequest(
            [("grant_type", "refresh_token"), ("refresh_token", refreshToken)], metadata: metadata, dpop: dpop)
        if let rawIDToken = refreshed.idToken, provider.isOpenIDConnect {
            // Not checked against idTokenMaxAge: some IdPs answer a refresh with the login's ID
            // token again (OIDC Core §12.2 asks for a new iat); the session is already ours.
            _ = try await validateIDToken(
                rawIDToken, metadata: metadata, nonce: nil, accessToken: refreshed.accessToken, subject: subject,
                checksIssuedAtAge: false)
        }
        return tokens.updated(byRefresh: refreshed)
    }

    /// The client credentials grant (RFC 6749 §4.4), for the client acting on its own behalf.
    public func clientCredentials(scopes: [String] = [], resources: [String] = []) async throws(OAuthError) -> TokenSet {
        let metadata = try await metadata()
        var form: [(String, String?)] = [
            ("grant_type", "client_credentials"),
            ("scope", scopes.isEmpty ? nil : scopes.joined(separator: " ")),
        ]
        for resource in resources { form.append(("resource", resource)) }
        return try await tokenRequest(form, metadata: metadata)
    }

    /// Validates an ID token from this provider that did not come straight from its token
    /// endpoint: keys from the JWKS (an unknown `kid` refetches them within the budget shared
    /// by every token anyone can send, see ``Configuration/keysMinimumRefetchInterval``), then
    /// every claim check, `iat` within ``Configuration/idTokenMaxAge`` included.
    public func validateIDToken(
        _ token: String,
        nonce: String?,
        accessToken: String? = nil,
        subject: String? = nil
    ) async throws(OAuthError) -> IDToken {
        try await validateIDToken(
            token, metadata: try await metadata(), nonce: nonce, accessToken: accessToken, subject: subject,
            source: .untrusted)
    }

    func validateIDToken(
        _ token: String,
        metadata: ProviderMetadata,
        nonce: String?,
        accessToken: String?,
        subject: String?,
        source: KeyLookupSource = .tokenEndpoint,
        checksIssuedAtAge: Bool = true
    ) async throws(OAuthError) -> IDToken {
        var expectations = IDTokenExpectations(
            issuer: provider.issuerPolicy, clientID: configuration.clientID,
            trustedAudiences: configuration.trustedAudiences, nonce: nonce, accessToken: accessToken,
            subject: subject, algorithms: algorithms(for: metadata), clockSkew: configuration.clockSkew)
        expectations.maxIssuedAtAge = checksIssuedAtAge ? configuration.idTokenMaxAge : nil
        let jws = try IDTokenVerifier.parse(token, expecting: expectations)
        let verifier = try await signingVerifier(
            keyID: jws.header.kid, algorithm: jws.header.alg, metadata: metadata, source: source)
        do {
            return try IDTokenVerifier.verify(jws, token: token, with: verifier, expecting: expectations, now: clock.now)
        } catch {
            logger.info("ID token rejected", metadata: ["reason": "\(error.code)"])
            throw error
        }
    }
}
