public import Foundation
import JWTKit

/// Back-channel logout token validation (OpenID Connect Back-Channel Logout 1.0 §2.6) as pure
/// functions of the token, the keys, the expectations and `now`.
///
/// A logout token is validated like an ID token — same key selection and algorithm allow-list,
/// `iss`, `aud`, `azp`, `iat`/`exp`/`nbf` with the clock skew (shared checks keep their
/// `id_token_*` codes) — and then:
/// - `typ`, when present, is `logout+jwt` (§2.4's explicit typing) or `JWT`;
/// - `events` is an object holding the member `http://schemas.openid.net/event/backchannel-logout`,
///   itself an object (§2.4, §2.6 step 4);
/// - `sub` or `sid` is present (§2.6 step 5);
/// - there is no `nonce` (§2.6 step 6: so an ID token can never pass as a logout token);
/// - `jti` is present (§2.4: REQUIRED).
///
/// Of ``IDTokenExpectations``, `nonce`, `accessToken` and `subject` are ignored.
public enum LogoutTokenVerifier {
    /// The event member a logout token's `events` claim must hold (§2.4).
    public static let backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

    /// The longest `jti`, `sid` or `sub` accepted (they are kept in memory and used as keys).
    public static let maximumIdentifierLength = 255

    /// Validates `token` completely against `keys`.
    public static func verify(
        _ token: String,
        keys: KeySet,
        expecting expectations: IDTokenExpectations,
        now: Date
    ) throws(OAuthError) -> LogoutToken {
        let jws = try parse(token, expecting: expectations)
        let verifier = try keys.verifier(keyID: jws.header.kid, algorithm: jws.header.alg)
        return try verify(jws, with: verifier, expecting: expectations, now: now)
    }

    /// Splits the token and checks its header: the ID token rules plus the `typ`.
    static func parse(_ token: String, expecting expectations: IDTokenExpectations) throws(OAuthError) -> CompactJWS {
        let jws = try IDTokenVerifier.parse(token, expecting: expectations)
        if let type = jws.header.typ {
            // RFC 7515 §4.1.9: compare ignoring case, with an optional `application/` prefix.
            var lowered = type.lowercased()
            if lowered.hasPrefix("application/") { lowered.removeFirst("application/".count) }
            guard lowered == "logout+jwt" || lowered == "jwt" else {
                throw OAuthError(.logoutTokenType, "the logout token's typ is not logout+jwt")
            }
        }
        return jws
    }

    /// Checks the signature with the selected key, then the claims.
    static func verify(
        _ jws: CompactJWS,
        with verifier: any JWTAlgorithm,
        expecting expectations: IDTokenExpectations,
        now: Date
    ) throws(OAuthError) -> LogoutToken {
        try jws.verifySignature(with: verifier, name: "logout token")
        let claims = try IDTokenClaims(payload: jws.payload)
        return try checkClaims(claims, keyID: jws.header.kid, expecting: expectations, now: now)
    }

    /// The claim checks of §2.6 steps 3–6 and §2.4's required `jti`.
    static func checkClaims(
        _ claims: IDTokenClaims,
        keyID: String?,
        expecting expectations: IDTokenExpectations,
        now: Date
    ) throws(OAuthError) -> LogoutToken {
        try IDTokenVerifier.checkIssuerAudienceAndTime(claims, expecting: expectations, now: now)

        guard case .object(let events)? = claims.all["events"] else {
            throw OAuthError(.logoutTokenMissingEvent, "the logout token has no events object")
        }
        guard case .object? = events[backchannelLogoutEvent] else {
            throw OAuthError(.logoutTokenMissingEvent, "the logout token's events do not name a back-channel logout")
        }
        // §2.6 step 6: a nonce means an ID token (or a forgery shaped like one), whatever its value.
        guard claims.all["nonce"] == nil else {
            throw OAuthError(.logoutTokenHasNonce, "the logout token carries a nonce")
        }
        let subject = claims.subject.isEmpty ? nil : claims.subject
        let sessionID = claims.sessionID.flatMap { $0.isEmpty ? nil : $0 }
        guard subject != nil || sessionID != nil else {
            throw OAuthError(.logoutTokenMissingSubject, "the logout token has neither sub nor sid")
        }
        for value in [subject, sessionID].compactMap(\.self) where value.utf8.count > maximumIdentifierLength {
            throw OAuthError(.logoutTokenMalformed, "the logout token's sub or sid is too long")
        }
        guard case .string(let tokenID)? = claims.all["jti"], !tokenID.isEmpty,
            tokenID.utf8.count <= maximumIdentifierLength
        else {
            throw OAuthError(.logoutTokenMissingTokenID, "the logout token has no usable jti")
        }
        return LogoutToken(
            issuer: claims.issuer, subject: subject, sessionID: sessionID, tokenID: tokenID,
            issuedAt: claims.issuedAt, expiresAt: claims.expiresAt, keyID: keyID)
    }
}

extension OAuthError.Code {
    // MARK: Back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6)
    public static let logoutTokenMalformed = Self("logout_token_malformed")
    public static let logoutTokenType = Self("logout_token_typ")
    public static let logoutTokenMissingEvent = Self("logout_token_missing_event")
    public static let logoutTokenHasNonce = Self("logout_token_nonce")
    public static let logoutTokenMissingSubject = Self("logout_token_missing_sub_and_sid")
    public static let logoutTokenMissingTokenID = Self("logout_token_missing_jti")
}
