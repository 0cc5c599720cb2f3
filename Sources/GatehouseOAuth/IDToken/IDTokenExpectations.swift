/// What a valid ID token must say (OpenID Connect Core §3.1.3.7).
public struct IDTokenExpectations: Sendable {
    /// How `iss` is compared (exactly, unless a preset says otherwise).
    public var issuer: IssuerPolicy
    /// Our `client_id`: it must be among `aud`, and equal `azp` when present.
    public var clientID: String
    /// Other audiences that may appear beside ours. Default: none.
    public var trustedAudiences: Set<String>
    /// The `nonce` sent in the authorization request; `nil` skips the check (refresh responses,
    /// OIDC Core §12.2, carry no nonce of ours).
    public var nonce: String?
    /// The access token issued with the ID token, for `at_hash` when the claim is present.
    public var accessToken: String?
    /// After a refresh, the `sub` the session already has: it must not change (§12.2).
    public var subject: String?
    /// Algorithms accepted in the header. Default: ``KeySet/supportedAlgorithms``.
    public var algorithms: Set<String>
    /// Tolerance for `exp`, `iat` and `nbf`. Default: 60 seconds.
    public var clockSkew: Duration
    /// How far in the past `iat` may be (OIDC Core §3.1.3.7 step 10): an older ID token fails
    /// with ``OAuthError/Code/idTokenIssuedTooLongAgo`` even when `exp` is still ahead. `nil`
    /// skips the check (a refresh may return the login's ID token again). Default: 10 minutes.
    public var maxIssuedAtAge: Duration? = .seconds(600)

    public init(
        issuer: IssuerPolicy,
        clientID: String,
        trustedAudiences: Set<String> = [],
        nonce: String? = nil,
        accessToken: String? = nil,
        subject: String? = nil,
        algorithms: Set<String> = KeySet.supportedAlgorithms,
        clockSkew: Duration = .seconds(60)
    ) {
        self.issuer = issuer
        self.clientID = clientID
        self.trustedAudiences = trustedAudiences
        self.nonce = nonce
        self.accessToken = accessToken
        self.subject = subject
        self.algorithms = algorithms
        self.clockSkew = clockSkew
    }
}
