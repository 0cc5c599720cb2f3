/// The one error type of `GatehouseOAuth`.
///
/// Match on ``code``: each failure has its own stable code, short and safe for logs and metric
/// labels. ``message`` explains it for people; neither ever contains a secret or a token.
public struct OAuthError: Error, Sendable, CustomStringConvertible {
    /// A stable, growable error code (`invalid_grant`, `id_token_nonce_mismatch`, …).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    /// What went wrong, as a stable code.
    public let code: Code
    /// A short explanation without secrets.
    public let message: String
    /// The OAuth error response when the IdP sent one (RFC 6749 §5.2, or the callback's `error`).
    public let response: OAuthErrorResponse?
    /// The HTTP status of the IdP's answer, when there was one.
    public let httpStatus: Int?
    /// The first bytes of an unexpected response body, control characters removed.
    public let bodyExcerpt: String?

    init(
        _ code: Code,
        _ message: String,
        response: OAuthErrorResponse? = nil,
        httpStatus: Int? = nil,
        bodyExcerpt: String? = nil
    ) {
        self.code = code
        self.message = message
        self.response = response
        self.httpStatus = httpStatus
        self.bodyExcerpt = bodyExcerpt
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        return text
    }
}

extension OAuthError.Code {
    // MARK: RFC 6749 §5.2 token endpoint errors, and the authorization endpoint's (§4.1.2.1)
    public static let invalidRequest = Self("invalid_request")
    public static let invalidClient = Self("invalid_client")
    public static let invalidGrant = Self("invalid_grant")
    public static let unauthorizedClient = Self("unauthorized_client")
    public static let unsupportedGrantType = Self("unsupported_grant_type")
    public static let invalidScope = Self("invalid_scope")
    public static let accessDenied = Self("access_denied")
    public static let unsupportedResponseType = Self("unsupported_response_type")
    public static let serverError = Self("server_error")
    public static let temporarilyUnavailable = Self("temporarily_unavailable")
    /// RFC 7009 §2.2.1.
    public static let unsupportedTokenType = Self("unsupported_token_type")
    /// An OAuth error code that no RFC we implement defines; see ``OAuthError/response``.
    public static let otherOAuthError = Self("oauth_error")

    // MARK: Transport
    public static let timeout = Self("timeout")
    public static let transport = Self("transport_error")
    public static let unexpectedStatus = Self("unexpected_http_status")
    public static let responseTooLarge = Self("response_too_large")
    public static let malformedResponse = Self("malformed_response")
    public static let insecureURL = Self("insecure_url")

    // MARK: Configuration and discovery
    public static let invalidConfiguration = Self("invalid_configuration")
    public static let discoveryIssuerMismatch = Self("discovery_issuer_mismatch")
    public static let endpointNotSupported = Self("endpoint_not_supported")

    // MARK: Callback (authorization response)
    public static let stateMismatch = Self("state_mismatch")
    public static let missingCode = Self("missing_code")
    public static let missingIssuer = Self("missing_iss")
    public static let issuerMismatch = Self("iss_mismatch")

    // MARK: ID token (OpenID Connect Core §3.1.3.7)
    public static let idTokenMissing = Self("id_token_missing")
    public static let idTokenMalformed = Self("id_token_malformed")
    public static let idTokenUnsupportedAlgorithm = Self("id_token_unsupported_alg")
    public static let idTokenAlgorithmMismatch = Self("id_token_alg_mismatch")
    public static let idTokenUnknownCritical = Self("id_token_unknown_crit")
    public static let idTokenKeyNotFound = Self("id_token_key_not_found")
    public static let idTokenAmbiguousKey = Self("id_token_ambiguous_key")
    public static let idTokenBadSignature = Self("id_token_bad_signature")
    public static let idTokenIssuerMismatch = Self("id_token_iss_mismatch")
    public static let idTokenAudienceMismatch = Self("id_token_aud_mismatch")
    public static let idTokenUntrustedAudience = Self("id_token_untrusted_aud")
    public static let idTokenAuthorizedPartyMismatch = Self("id_token_azp_mismatch")
    public static let idTokenExpired = Self("id_token_expired")
    public static let idTokenNotYetValid = Self("id_token_not_yet_valid")
    public static let idTokenIssuedInFuture = Self("id_token_iat_in_future")
    public static let idTokenMissingSubject = Self("id_token_missing_sub")
    public static let idTokenNonceMismatch = Self("id_token_nonce_mismatch")
    public static let idTokenAccessTokenHashMismatch = Self("id_token_at_hash_mismatch")
    public static let idTokenTenantMismatch = Self("id_token_tenant_mismatch")
    public static let idTokenSubjectChanged = Self("id_token_sub_changed")

    // MARK: DPoP
    /// A token request with a DPoP proof got a token not bound to the key (RFC 9449 §5).
    public static let dpopNotBound = Self("dpop_not_bound")

    // MARK: UserInfo
    public static let userInfoSubjectMismatch = Self("userinfo_sub_mismatch")
    public static let unverifiedEmail = Self("unverified_email")

    /// The code for an OAuth `error` value from an IdP.
    static func oauth(_ error: String) -> Self {
        switch error {
        case "invalid_request": .invalidRequest
        case "invalid_client": .invalidClient
        case "invalid_grant": .invalidGrant
        case "unauthorized_client": .unauthorizedClient
        case "unsupported_grant_type": .unsupportedGrantType
        case "invalid_scope": .invalidScope
        case "access_denied": .accessDenied
        case "unsupported_response_type": .unsupportedResponseType
        case "server_error": .serverError
        case "temporarily_unavailable": .temporarilyUnavailable
        case "unsupported_token_type": .unsupportedTokenType
        default: .otherOAuthError
        }
    }
}

extension OAuthError {
    /// An error built from the IdP's OAuth error response.
    static func fromResponse(_ response: OAuthErrorResponse, httpStatus: Int?) -> OAuthError {
        let description = response.errorDescription.map { ": " + Self.sanitize($0, limit: 200) } ?? ""
        return OAuthError(
            .oauth(response.error),
            "the identity provider answered \(Self.sanitize(response.error, limit: 64))\(description)",
            response: response,
            httpStatus: httpStatus
        )
    }

    /// Printable ASCII only, at most `limit` characters: safe to log and show.
    static func sanitize(_ text: String, limit: Int) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            result.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
        }
        return result
    }
}
