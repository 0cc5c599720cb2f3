public import Foundation
import JWTKit

/// ID-token validation as pure functions of the token, the keys, the expectations and `now`.
public enum IDTokenVerifier {
    /// Validates `token` completely against `keys` (OpenID Connect Core §3.1.3.7).
    public static func verify(
        _ token: String,
        keys: KeySet,
        expecting expectations: IDTokenExpectations,
        now: Date
    ) throws(OAuthError) -> IDToken {
        let jws = try parse(token, expecting: expectations)
        let verifier = try keys.verifier(keyID: jws.header.kid, algorithm: jws.header.alg)
        return try verify(jws, token: token, with: verifier, expecting: expectations, now: now)
    }

    /// Splits the token and checks its header: an allowed asymmetric `alg` and no `crit`.
    static func parse(_ token: String, expecting expectations: IDTokenExpectations) throws(OAuthError) -> CompactJWS {
        let jws = try CompactJWS(token)
        let algorithm = jws.header.alg
        // Never `none`, never HMAC (a public key used as an HMAC secret), only what we allow.
        guard KeySet.supportedAlgorithms.contains(algorithm), expectations.algorithms.contains(algorithm) else {
            throw OAuthError(
                .idTokenUnsupportedAlgorithm,
                "the ID token is signed with \(OAuthError.sanitize(algorithm, limit: 16)), which is not allowed")
        }
        // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
        if jws.header.crit != nil {
            throw OAuthError(.idTokenUnknownCritical, "the ID token's header lists critical extensions Gatehouse does not support")
        }
        // `jwk`, `jku`, `x5u` and `x5c` header parameters are ignored: only published keys count.
        return jws
    }

    /// Checks the signature with the selected key, then the claims.
    static func verify(
        _ jws: CompactJWS,
        token: String,
        with verifier: any JWTAlgorithm,
        expecting expectations: IDTokenExpectations,
        now: Date
    ) throws(OAuthError) -> IDToken {
        try jws.verifySignature(with: verifier, name: "ID token")
        let claims = try IDTokenClaims(payload: jws.payload)
        try checkClaims(claims, algorithm: jws.header.alg, expecting: expectations, now: now)
        return IDToken(rawValue: token, algorithm: jws.header.alg, keyID: jws.header.kid, claims: claims)
    }

    /// The claim checks of §3.1.3.7 steps 2–5 and 9–11, plus `sub`, `nbf` and `at_hash`.
    static func checkClaims(
        _ claims: IDTokenClaims,
        algorithm: String,
        expecting expectations: IDTokenExpectations,
        now: Date
    ) throws(OAuthError) {
        try checkIssuerAudienceAndTime(claims, expecting: expectations, now: now)

        // Step 10: "The iat Claim can be used to reject tokens that were issued too far away
        // from the current time". An ID token issued long ago (a day, with `exp` still ahead)
        // is not the answer to the login in progress.
        if let maxAge = expectations.maxIssuedAtAge,
            now.timeIntervalSince(claims.issuedAt) > TimeInterval(maxAge.components.seconds)
        {
            throw OAuthError(.idTokenIssuedTooLongAgo, "the ID token's iat is further in the past than allowed")
        }

        guard !claims.subject.isEmpty, claims.subject.utf8.count <= 255 else {
            throw OAuthError(.idTokenMissingSubject, "the ID token has no usable sub")
        }
        if let subject = expectations.subject, subject != claims.subject {
            throw OAuthError(.idTokenSubjectChanged, "the refreshed ID token names a different sub")
        }

        if let nonce = expectations.nonce {
            guard let claimed = claims.nonce, constantTimeEqual(claimed, nonce) else {
                throw OAuthError(.idTokenNonceMismatch, "the ID token's nonce is not the one this login sent")
            }
        }

        if let hash = claims.accessTokenHash, let accessToken = expectations.accessToken {
            guard let expected = AccessTokenHash.compute(accessToken: accessToken, algorithm: algorithm),
                constantTimeEqual(expected, hash)
            else {
                throw OAuthError(.idTokenAccessTokenHashMismatch, "the ID token's at_hash does not match the access token")
            }
        }
    }

    /// The checks ID tokens and logout tokens share (OIDC Core §3.1.3.7 steps 2–5, 9–10;
    /// Back-Channel Logout §2.6 step 3): `iss`, `aud` (ours, and no untrusted one), `azp`,
    /// and `exp`/`iat`/`nbf` within the clock skew.
    static func checkIssuerAudienceAndTime(
        _ claims: IDTokenClaims,
        expecting expectations: IDTokenExpectations,
        now: Date
    ) throws(OAuthError) {
        try expectations.issuer.check(issuer: claims.issuer, tenant: claims.tenantID)

        guard claims.audiences.contains(expectations.clientID) else {
            throw OAuthError(.idTokenAudienceMismatch, "the ID token's aud does not include our client_id")
        }
        for audience in claims.audiences where audience != expectations.clientID {
            guard expectations.trustedAudiences.contains(audience) else {
                throw OAuthError(.idTokenUntrustedAudience, "the ID token's aud includes an audience we do not trust")
            }
        }
        if claims.audiences.count > 1 && claims.authorizedParty == nil {
            throw OAuthError(.idTokenAuthorizedPartyMismatch, "the ID token has several audiences and no azp")
        }
        if let authorizedParty = claims.authorizedParty, authorizedParty != expectations.clientID {
            throw OAuthError(.idTokenAuthorizedPartyMismatch, "the ID token's azp is not our client_id")
        }

        let skew = TimeInterval(expectations.clockSkew.components.seconds)
        guard now.timeIntervalSince(claims.expiresAt) < skew else {
            throw OAuthError(.idTokenExpired, "the ID token has expired")
        }
        guard claims.issuedAt.timeIntervalSince(now) <= skew else {
            throw OAuthError(.idTokenIssuedInFuture, "the ID token's iat is in the future")
        }
        if let notBefore = claims.notBefore, notBefore.timeIntervalSince(now) > skew {
            throw OAuthError(.idTokenNotYetValid, "the ID token is not valid yet (nbf)")
        }
    }
}

extension OAuthError.Code {
    /// The ID token's `iat` is older than ``IDTokenExpectations/maxIssuedAtAge``.
    public static let idTokenIssuedTooLongAgo = Self("id_token_iat_too_old")
}

/// Compares two secrets without an early exit on the first differing byte.
func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
    var lhs = lhs
    var rhs = rhs
    // Native strings are contiguous already; this only copies bridged ones.
    return lhs.withUTF8 { left in
        rhs.withUTF8 { right in
            guard left.count == right.count else { return false }
            var difference: UInt8 = 0
            for index in left.indices {
                difference |= left[index] ^ right[index]
            }
            return difference == 0
        }
    }
}
