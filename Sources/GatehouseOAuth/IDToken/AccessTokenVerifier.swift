public import Foundation
import JWTKit

/// What a JWT access token must say to be accepted by a resource server (RFC 9068 §4).
public struct AccessTokenExpectations: Sendable {
    /// How `iss` is compared (exactly, unless a preset says otherwise).
    public var issuer: IssuerPolicy
    /// The resource server's identifiers: `aud` must contain at least one (RFC 9068 §4 step 4).
    public var audiences: Set<String>
    /// Algorithms accepted in the header. Default: ``KeySet/supportedAlgorithms``.
    public var algorithms: Set<String>
    /// Tolerance for `exp`, `iat` and `nbf`. Default: 60 seconds.
    public var clockSkew: Duration

    public init(
        issuer: IssuerPolicy,
        audiences: Set<String>,
        algorithms: Set<String> = KeySet.supportedAlgorithms,
        clockSkew: Duration = .seconds(60)
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.algorithms = algorithms
        self.clockSkew = clockSkew
    }
}

/// A JWT access token (RFC 9068) whose signature and claims have been validated.
public struct JWTAccessToken: Sendable, Hashable {
    /// The compact JWS as received.
    public let rawValue: String
    /// The header's `alg`.
    public let algorithm: String
    /// The header's `kid`, when present.
    public let keyID: String?
    /// Its claims (the registered ones are those of an ID token, RFC 9068 §2.2).
    public let claims: IDTokenClaims
}

/// JWT access token validation (RFC 9068 §4) as pure functions of the token, the keys, the
/// expectations and `now`, for a resource server that accepts the IdP's access tokens.
///
/// Beyond the signature (a published key, an allowed asymmetric `alg`, as for ID tokens):
/// - the header `typ` is `at+jwt` or `application/at+jwt` (§4 step 1; compared ignoring case);
///   an ID token (`JWT` or no `typ`) therefore never passes as an access token;
/// - nothing shaped like an ID token passes either, whatever its `typ`: no `nonce`, `at_hash`,
///   `c_hash` or `s_hash`, and not an `azp` that is its only audience (an ID token is
///   addressed to the client it was issued to; an access token to a resource);
/// - `iss` as the provider's issuer policy says (exactly for a generic issuer, §4 step 3);
/// - `aud` contains one of the expected audiences (§4 step 4);
/// - `exp` ahead and `nbf`/`iat` not ahead, within the clock skew (§4 step 7); a `sub`.
public enum AccessTokenVerifier {
    /// Validates `token` completely against `keys`.
    public static func verify(
        _ token: String,
        keys: KeySet,
        expecting expectations: AccessTokenExpectations,
        now: Date
    ) throws(OAuthError) -> JWTAccessToken {
        let jws = try parse(token, expecting: expectations)
        let verifier = try keys.verifier(keyID: jws.header.kid, algorithm: jws.header.alg)
        return try verify(jws, token: token, with: verifier, expecting: expectations, now: now)
    }

    /// Splits the token and checks its header: `typ`, an allowed asymmetric `alg`, no `crit`.
    static func parse(_ token: String, expecting expectations: AccessTokenExpectations) throws(OAuthError) -> CompactJWS {
        let jws = try CompactJWS(token, code: .accessTokenMalformed)
        // RFC 9068 §4 step 1, with RFC 7515 §4.1.9's optional `application/` prefix.
        var type = jws.header.typ?.lowercased() ?? ""
        if type.hasPrefix("application/") { type.removeFirst("application/".count) }
        guard type == "at+jwt" else {
            throw OAuthError(.accessTokenType, "the token's typ is not at+jwt (an ID token is not an access token)")
        }
        let algorithm = jws.header.alg
        guard KeySet.supportedAlgorithms.contains(algorithm), expectations.algorithms.contains(algorithm) else {
            throw OAuthError(
                .idTokenUnsupportedAlgorithm,
                "the access token is signed with \(OAuthError.sanitize(algorithm, limit: 16)), which is not allowed")
        }
        if jws.header.crit != nil {
            throw OAuthError(.idTokenUnknownCritical, "the access token's header lists critical extensions Gatehouse does not support")
        }
        return jws
    }

    /// Checks the signature with the selected key, then the claims.
    static func verify(
        _ jws: CompactJWS,
        token: String,
        with verifier: any JWTAlgorithm,
        expecting expectations: AccessTokenExpectations,
        now: Date
    ) throws(OAuthError) -> JWTAccessToken {
        try jws.verifySignature(with: verifier, name: "access token")
        let claims: IDTokenClaims
        do {
            claims = try IDTokenClaims(payload: jws.payload)
        } catch {
            throw OAuthError(.accessTokenMalformed, "the access token lacks a required claim or has one of the wrong type")
        }
        try checkClaims(claims, expecting: expectations, now: now)
        return JWTAccessToken(rawValue: token, algorithm: jws.header.alg, keyID: jws.header.kid, claims: claims)
    }

    /// The claim checks of RFC 9068 §4 steps 3, 4 and 7, the ID-token shapes, and `sub`.
    static func checkClaims(
        _ claims: IDTokenClaims,
        expecting expectations: AccessTokenExpectations,
        now: Date
    ) throws(OAuthError) {
        for name in ["nonce", "at_hash", "c_hash", "s_hash"] where claims.all[name] != nil {
            throw OAuthError(.accessTokenIsIDToken, "the token carries \(name), an ID token claim")
        }
        if let authorizedParty = claims.authorizedParty, claims.audiences.allSatisfy({ $0 == authorizedParty }) {
            throw OAuthError(.accessTokenIsIDToken, "the token's only audience is its azp, as in an ID token")
        }
        do {
            try expectations.issuer.check(issuer: claims.issuer, tenant: claims.tenantID)
        } catch {
            throw OAuthError(.accessTokenIssuerMismatch, "the access token's iss is not the expected issuer")
        }
        guard claims.audiences.contains(where: expectations.audiences.contains) else {
            throw OAuthError(.accessTokenAudienceMismatch, "the access token's aud names none of the expected audiences")
        }
        let skew = TimeInterval(expectations.clockSkew.components.seconds)
        guard now.timeIntervalSince(claims.expiresAt) < skew else {
            throw OAuthError(.accessTokenExpired, "the access token has expired")
        }
        guard claims.issuedAt.timeIntervalSince(now) <= skew else {
            throw OAuthError(.accessTokenNotYetValid, "the access token's iat is in the future")
        }
        if let notBefore = claims.notBefore, notBefore.timeIntervalSince(now) > skew {
            throw OAuthError(.accessTokenNotYetValid, "the access token is not valid yet (nbf)")
        }
        guard !claims.subject.isEmpty, claims.subject.utf8.count <= 255 else {
            throw OAuthError(.accessTokenMissingSubject, "the access token has no usable sub")
        }
    }
}

extension OAuthError.Code {
    // MARK: JWT access tokens (RFC 9068 §4)
    public static let accessTokenMalformed = Self("access_token_malformed")
    public static let accessTokenType = Self("access_token_typ")
    public static let accessTokenIsIDToken = Self("access_token_is_id_token")
    public static let accessTokenIssuerMismatch = Self("access_token_iss_mismatch")
    public static let accessTokenAudienceMismatch = Self("access_token_aud_mismatch")
    public static let accessTokenExpired = Self("access_token_expired")
    public static let accessTokenNotYetValid = Self("access_token_not_yet_valid")
    public static let accessTokenMissingSubject = Self("access_token_missing_sub")
}
