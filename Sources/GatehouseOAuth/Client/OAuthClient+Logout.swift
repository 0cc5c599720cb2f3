import Foundation

extension OAuthClient {
    /// Validates a back-channel logout token from this provider (OpenID Connect Back-Channel
    /// Logout 1.0 §2.6; see ``LogoutTokenVerifier``): keys from the JWKS, selected as for ID
    /// tokens — anyone can post a logout token, so an unknown `kid` refetches them only within
    /// the shared budget (``Configuration/keysMinimumRefetchInterval``) — then every claim check.
    ///
    /// Replay (`jti`) is not checked here: that needs state the caller keeps.
    public func validateLogoutToken(_ token: String) async throws(OAuthError) -> LogoutToken {
        let metadata = try await metadata()
        let expectations = IDTokenExpectations(
            issuer: provider.issuerPolicy, clientID: configuration.clientID,
            trustedAudiences: configuration.trustedAudiences, algorithms: algorithms(for: metadata),
            clockSkew: configuration.clockSkew)
        let jws: CompactJWS
        do {
            jws = try LogoutTokenVerifier.parse(token, expecting: expectations)
        } catch where error.code == .idTokenMalformed {
            throw OAuthError(.logoutTokenMalformed, "the logout token is not a well-formed JWS")
        }
        let verifier = try await signingVerifier(
            keyID: jws.header.kid, algorithm: jws.header.alg, metadata: metadata, source: .untrusted)
        do {
            return try LogoutTokenVerifier.verify(jws, with: verifier, expecting: expectations, now: clock.now)
        } catch {
            logger.info("logout token rejected", metadata: ["reason": "\(error.code)"])
            throw error
        }
    }
}
