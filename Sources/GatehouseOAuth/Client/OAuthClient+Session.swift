public import Foundation

extension OAuthClient {
    /// RFC 7009 `token_type_hint`.
    public enum TokenTypeHint: String, Sendable {
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
    }

    /// Revokes a token (RFC 7009). Throws ``OAuthError/Code/endpointNotSupported`` when the
    /// provider has no revocation endpoint, so callers can decide whether that matters.
    public func revoke(_ token: String, hint: TokenTypeHint? = nil) async throws(OAuthError) {
        let metadata = try await metadata()
        guard let endpoint = metadata.revocationEndpoint else {
            throw OAuthError(.endpointNotSupported, "the provider has no revocation endpoint")
        }
        var form: [(String, String?)] = [("token", token), ("token_type_hint", hint?.rawValue)]
        var headers: [(String, String)] = [("Content-Type", "application/x-www-form-urlencoded")]
        try await configuration.authentication.apply(
            clientID: configuration.clientID, metadata: metadata, now: clock.now, form: &form, headers: &headers)
        let response = try await transport.send(
            .POST, endpoint, headers: headers, body: Array(FormEncoding.encode(form).utf8), endpoint: "revocation endpoint")
        // RFC 7009 §2.2: 200 whether or not the token was valid.
        guard response.status == 200 else {
            if let fields = TokenResponse.decodeFields(response), let error = fields["error"]?.stringValue {
                throw OAuthError.fromResponse(
                    OAuthErrorResponse(error: error, errorDescription: fields["error_description"]?.stringValue),
                    httpStatus: response.status)
            }
            throw OAuthError(
                .unexpectedStatus, "the revocation endpoint answered HTTP \(response.status)",
                httpStatus: response.status, bodyExcerpt: response.excerpt)
        }
    }

    /// Calls the userinfo endpoint (OIDC Core §5.3). When `subject` is given, the answer's
    /// `sub` must equal it (§5.3.2: otherwise the response must not be used).
    ///
    /// A DPoP-bound access token goes with a proof of `dpop` (RFC 9449 §7), retried once with
    /// the endpoint's nonce when it asks for one.
    public func userInfo(
        accessToken: String, subject: String?, dpop: DPoPKey? = nil
    ) async throws(OAuthError) -> [String: JSONValue] {
        let metadata = try await metadata()
        guard let endpoint = metadata.userInfoEndpoint else {
            throw OAuthError(.endpointNotSupported, "the provider has no userinfo endpoint")
        }
        let response = try await resourceGET(endpoint, accessToken: accessToken, dpop: dpop, name: "userinfo endpoint")
        guard response.status == 200 else {
            throw OAuthError(
                response.status == 401 ? .invalidGrant : .unexpectedStatus,
                "the userinfo endpoint answered HTTP \(response.status)", httpStatus: response.status,
                bodyExcerpt: response.excerpt)
        }
        guard response.mediaType == "application/json" || response.mediaType == nil,
            let claims = TokenResponse.decodeFields(response)
        else {
            throw OAuthError(.malformedResponse, "the userinfo answer is not a JSON object (signed userinfo is not supported)")
        }
        if let subject {
            guard claims["sub"]?.stringValue == subject else {
                throw OAuthError(.userInfoSubjectMismatch, "the userinfo sub does not match the ID token's sub")
            }
        }
        return claims
    }

    /// The RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0 §2), or `nil` when
    /// the provider has no `end_session_endpoint`. It always names our `client_id`.
    ///
    /// `idTokenHint` lets the OP end the right session without asking the user first (§2: it
    /// must ask without one) and is required by some OPs; the URL lands in browser history and
    /// the OP's logs, so an ID token must never be accepted as a credential anywhere (RFC 9068
    /// resource servers refuse it: ``AccessTokenVerifier``). `logoutHint` names the user's
    /// session at the OP as it asks (see ``logoutHint(forIDToken:)``).
    public func endSessionURL(
        idTokenHint: String?,
        logoutHint: String? = nil,
        postLogoutRedirectURI: String?,
        state: String? = nil
    ) async throws(OAuthError) -> URL? {
        let metadata = try await metadata()
        guard let endpoint = metadata.endSessionEndpoint else { return nil }
        let query = FormEncoding.encode([
            ("id_token_hint", idTokenHint),
            ("logout_hint", logoutHint),
            ("client_id", configuration.clientID),
            ("post_logout_redirect_uri", postLogoutRedirectURI),
            ("state", state),
        ], spaceAsPlus: false)
        return URL(string: endpoint + (endpoint.contains("?") ? "&" : "?") + query)
    }
}

extension OAuthClient {
    /// The `logout_hint` (RP-Initiated Logout 1.0 §2) a stored ID token suggests: its
    /// `login_hint` claim, which Microsoft Entra ID issues for exactly this, else its `sid`
    /// (the OP's session, as Auth0 reads the hint); `nil` when it has neither or cannot be
    /// read. The token is not verified again: it was at login, and comes from our own store.
    public static func logoutHint(forIDToken idToken: String) -> String? {
        guard let jws = try? CompactJWS(idToken), let claims = try? IDTokenClaims(payload: jws.payload) else { return nil }
        let hint = claims.all["login_hint"]?.stringValue ?? claims.sessionID
        return hint.flatMap { $0.isEmpty ? nil : $0 }
    }
}
