extension OAuthClient {
    /// How this relying party is registered with the provider and how careful it is.
    public struct Configuration: Sendable {
        public var clientID: String
        public var authentication: ClientAuthentication
        /// The exact registered redirect URI (RFC 9700 §2.1: exact string matching).
        public var redirectURI: String
        /// Scopes to request; `nil` uses the provider's defaults.
        public var scopes: [String]?
        /// Audiences tolerated in an ID token beside our client id. Default: none.
        public var trustedAudiences: Set<String> = []
        /// ID token algorithms accepted. Default: all asymmetric ones Gatehouse supports that
        /// the provider advertises.
        public var algorithms: Set<String>?
        /// Tolerance for token time claims. Default: 60 seconds.
        public var clockSkew: Duration = .seconds(60)
        /// Deadline for each call to the IdP (connect, send, read). Default: 10 seconds.
        public var timeout: Duration = .seconds(10)
        /// Largest IdP response body accepted. Default: 1 MiB.
        public var maxResponseBytes: Int = 1 << 20
        /// How often discovery is re-read. Default: 1 hour.
        public var metadataRefreshInterval: Duration = .seconds(3600)
        /// How long fetched keys are used before a scheduled refetch. Default: 1 hour.
        public var keysMaxAge: Duration = .seconds(3600)
        /// The budget of JWKS refetches caused by an unknown `kid` in a token anyone can send (a
        /// back-channel logout token, a bearer token, an ID token handed to
        /// ``OAuthClient/validateIDToken(_:nonce:accessToken:subject:)``): at most one per this
        /// interval, shared by all of them. An ID token from the token endpoint always refetches
        /// (one fetch shared by concurrent logins). Default: 30 seconds.
        public var keysMinimumRefetchInterval: Duration = .seconds(30)
        /// How long ago an ID token may have been issued (`iat`) when a login receives it (OIDC
        /// Core §3.1.3.7 step 10; mod_auth_openidc's `OIDCIDTokenIatSlack`); older ones fail
        /// with ``OAuthError/Code/idTokenIssuedTooLongAgo``. Not the `max_age` request
        /// parameter, which limits `auth_time`. ID tokens returned by a refresh are not held to
        /// it. `nil` turns the check off. Default: 10 minutes.
        public var idTokenMaxAge: Duration? = .seconds(600)
        /// Always call userinfo at login (its `sub` must match) and complete the identity from
        /// it. When `false` (the default), userinfo is asked only when the ID token lacks the
        /// claims its scopes stand for (``Identity/completed(byUserInfo:)``).
        public var fetchUserInfo = false
        /// Whether authorization requests are pushed (RFC 9126 PAR). Default
        /// ``PushedAuthorization/auto``.
        public var pushedAuthorization: PushedAuthorization = .auto
        /// Send authorization requests as request objects signed with the client's
        /// `private_key_jwt` key (RFC 9101, JAR), pushed or not. Default `false`.
        public var signsRequestObjects = false
        /// Bind every login's tokens to a fresh DPoP key (RFC 9449): the authorization request
        /// names it (`dpop_jkt`), the code and every refresh are redeemed with its proofs, and
        /// the tokens must come back `token_type: DPoP` (``TokenSet/dpopKey`` holds the key).
        /// Default `false`.
        public var usesDPoP = false
        /// Require the RFC 9207 `iss` in every authorization response, whether or not the
        /// provider advertises `authorization_response_iss_parameter_supported`. Default `false`.
        public var requiresIssuerParameter = false
        /// A security profile (``SecurityProfile/fapi2``) the client holds itself to: the
        /// settings it forces are applied when the ``OAuthClient`` is made, which refuses the
        /// settings it forbids. Default none.
        public var profile: SecurityProfile?
        /// Claims to keep in the ``Identity`` by dotted path (`org.id`, `roles`), from the ID
        /// token (and userinfo when it is asked), for rules on claims. Default none.
        public var retainedClaims: [String] = []
        /// Endpoints to use instead of (or in the absence of) the discovered ones.
        public var endpointOverrides = EndpointOverrides()
        /// `User-Agent` of outgoing requests (GitHub's API requires one).
        public var userAgent = "Gatehouse/0.1"

        public init(
            clientID: String,
            authentication: ClientAuthentication,
            redirectURI: String,
            scopes: [String]? = nil
        ) {
            self.clientID = clientID
            self.authentication = authentication
            self.redirectURI = redirectURI
            self.scopes = scopes
        }
    }

    /// Endpoint URLs that replace the provider's metadata (for example a `revocation_endpoint`
    /// the provider serves but does not advertise in its OpenID configuration).
    public struct EndpointOverrides: Sendable, Hashable {
        public var revocationEndpoint: String?
        public var userInfoEndpoint: String?
        public var endSessionEndpoint: String?
        public init(revocationEndpoint: String? = nil, userInfoEndpoint: String? = nil, endSessionEndpoint: String? = nil) {
            self.revocationEndpoint = revocationEndpoint
            self.userInfoEndpoint = userInfoEndpoint
            self.endSessionEndpoint = endSessionEndpoint
        }
    }
}
