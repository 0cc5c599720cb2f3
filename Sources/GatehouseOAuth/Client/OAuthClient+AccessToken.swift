import Foundation

extension OAuthClient {
    /// Validates a JWT access token from this provider as a resource server does (RFC 9068 §4;
    /// see ``AccessTokenVerifier``): `typ` `at+jwt`, a key from the JWKS, `iss`, an `aud` among
    /// `audiences`, the times. Anyone can present a bearer token, so an unknown `kid` refetches
    /// the keys only within the shared budget (``Configuration/keysMinimumRefetchInterval``).
    public func validateAccessToken(_ token: String, audiences: Set<String>) async throws(OAuthError) -> JWTAccessToken {
        let metadata = try await metadata()
        let expectations = AccessTokenExpectations(
            issuer: provider.issuerPolicy, audiences: audiences, algorithms: algorithms(for: metadata),
            clockSkew: configuration.clockSkew)
        let jws = try AccessTokenVerifier.parse(token, expecting: expectations)
        let verifier = try await signingVerifier(
            keyID: jws.header.kid, algorithm: jws.header.alg, metadata: metadata, source: .untrusted)
        return try AccessTokenVerifier.verify(jws, token: token, with: verifier, expecting: expectations, now: clock.now)
    }
}

extension Identity {
    /// The identity an access token's claims describe (RFC 9068 §2.2: `sub`, and the user
    /// claims an IdP may add, RFC 9068 §2.2.3.1), read as an ID token's are: an email only as
    /// `emailVerification` allows (pass the provider's, ``Provider/emailVerification``).
    public init(accessToken: JWTAccessToken, emailVerification: EmailVerification = .ifPresent) {
        self.init(
            idToken: IDToken(
                rawValue: accessToken.rawValue, algorithm: accessToken.algorithm, keyID: accessToken.keyID,
                claims: accessToken.claims),
            emailVerification: emailVerification)
    }
}
