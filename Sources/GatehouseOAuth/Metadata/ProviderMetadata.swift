/// What an authorization server publishes about itself (OpenID Connect Discovery 1.0 §3,
/// RFC 8414 §2), or what a caller states by hand for a provider without discovery (GitHub).
public struct ProviderMetadata: Sendable, Hashable, Codable {
    public var issuer: String
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var userInfoEndpoint: String?
    public var jwksURI: String?
    public var revocationEndpoint: String?
    public var introspectionEndpoint: String?
    public var endSessionEndpoint: String?
    public var scopesSupported: [String]?
    public var responseTypesSupported: [String]?
    public var grantTypesSupported: [String]?
    public var codeChallengeMethodsSupported: [String]?
    public var tokenEndpointAuthMethodsSupported: [String]?
    public var idTokenSigningAlgValuesSupported: [String]?
    public var claimsSupported: [String]?
    /// RFC 9207 §3: when `true`, every authorization response must carry `iss`.
    public var authorizationResponseIssParameterSupported: Bool?
    public var backchannelLogoutSupported: Bool?
    public var backchannelLogoutSessionSupported: Bool?
    /// RFC 9126 §5: where authorization requests are pushed.
    public var pushedAuthorizationRequestEndpoint: String?
    /// RFC 9126 §5: when `true`, authorization requests must be pushed.
    public var requirePushedAuthorizationRequests: Bool?
    /// RFC 9449 §5.1: the algorithms the server accepts DPoP proofs in.
    public var dpopSigningAlgValuesSupported: [String]?
    /// RFC 8414 §2: the algorithms the server accepts `private_key_jwt` assertions in.
    public var tokenEndpointAuthSigningAlgValuesSupported: [String]?

    public init(
        issuer: String,
        authorizationEndpoint: String,
        tokenEndpoint: String,
        userInfoEndpoint: String? = nil,
        jwksURI: String? = nil,
        revocationEndpoint: String? = nil,
        endSessionEndpoint: String? = nil
    ) {
        self.issuer = issuer
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.userInfoEndpoint = userInfoEndpoint
        self.jwksURI = jwksURI
        self.revocationEndpoint = revocationEndpoint
        self.endSessionEndpoint = endSessionEndpoint
    }

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case userInfoEndpoint = "userinfo_endpoint"
        case jwksURI = "jwks_uri"
        case revocationEndpoint = "revocation_endpoint"
        case introspectionEndpoint = "introspection_endpoint"
        case endSessionEndpoint = "end_session_endpoint"
        case scopesSupported = "scopes_supported"
        case responseTypesSupported = "response_types_supported"
        case grantTypesSupported = "grant_types_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
        case claimsSupported = "claims_supported"
        case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
        case backchannelLogoutSupported = "backchannel_logout_supported"
        case backchannelLogoutSessionSupported = "backchannel_logout_session_supported"
        case pushedAuthorizationRequestEndpoint = "pushed_authorization_request_endpoint"
        case requirePushedAuthorizationRequests = "require_pushed_authorization_requests"
        case dpopSigningAlgValuesSupported = "dpop_signing_alg_values_supported"
        case tokenEndpointAuthSigningAlgValuesSupported = "token_endpoint_auth_signing_alg_values_supported"
    }

    /// Checks every endpoint is an absolute HTTPS URL (HTTP on loopback only).
    func validateEndpoints() throws(OAuthError) {
        _ = try EndpointURL.validate(issuer, name: "issuer")
        _ = try EndpointURL.validate(authorizationEndpoint, name: "authorization_endpoint")
        _ = try EndpointURL.validate(tokenEndpoint, name: "token_endpoint")
        let optional: [(String?, String)] = [
            (userInfoEndpoint, "userinfo_endpoint"), (jwksURI, "jwks_uri"),
            (revocationEndpoint, "revocation_endpoint"), (endSessionEndpoint, "end_session_endpoint"),
            (pushedAuthorizationRequestEndpoint, "pushed_authorization_request_endpoint"),
        ]
        for case (let url?, let name) in optional {
            _ = try EndpointURL.validate(url, name: name)
        }
    }
}
