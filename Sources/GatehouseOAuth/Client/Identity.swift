/// Who signed in, as the gateway and apps need it.
public struct Identity: Sendable, Hashable, Codable {
    public var issuer: String
    /// `sub`: stable and unique within the issuer.
    public var subject: String
    /// Present only when the provider says it is verified (or does not say otherwise).
    public var email: String?
    public var emailVerified: Bool?
    public var name: String?
    public var preferredUsername: String?
    public var groups: [String]
    /// The IdP's session id (`sid`), for back-channel logout.
    public var sessionID: String?

    public init(
        issuer: String,
        subject: String,
        email: String? = nil,
        emailVerified: Bool? = nil,
        name: String? = nil,
        preferredUsername: String? = nil,
        groups: [String] = [],
        sessionID: String? = nil
    ) {
        self.issuer = issuer
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.preferredUsername = preferredUsername
        self.groups = groups
        self.sessionID = sessionID
    }

    /// The identity in a validated ID token. An `email` with `email_verified: false` is left
    /// out: an upstream reading `X-Forwarded-Email` must not meet an address nobody proved
    /// to own.
    public init(idToken: IDToken) {
        let claims = idToken.claims
        self.init(
            issuer: claims.issuer,
            subject: claims.subject,
            email: claims.emailVerified == false ? nil : claims.email,
            emailVerified: claims.emailVerified,
            name: claims.name,
            preferredUsername: claims.preferredUsername,
            groups: claims.groups ?? [],
            sessionID: claims.sessionID)
    }
}

/// The outcome of a successful login.
public struct LoginResult: Sendable {
    public var tokens: TokenSet
    /// The validated ID token (OpenID Connect providers).
    public var idToken: IDToken?
    public var identity: Identity
}
