/// Who signed in, as the gateway and apps need it.
public struct Identity: Sendable, Hashable, Codable {
    public var issuer: String
    /// `sub`: stable and unique within the issuer.
    public var subject: String
    /// Present only when the provider vouches for it as its ``EmailVerification`` asks: with
    /// a claim of `true`, or (``EmailVerification/ifPresent``) without a claim of `false`.
    public var email: String?
    /// What the provider's verification claim said (`email_verified`; Microsoft: `xms_edov`),
    /// `nil` when absent.
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

    /// The identity in a validated ID token. An `email` that `emailVerification` does not
    /// accept (always one with `email_verified: false`; with ``EmailVerification/always`` also
    /// one without the claim) is left out: an upstream reading `X-Forwarded-Email`, or an email
    /// rule, must not meet an address nobody proved to own. Default: ``EmailVerification/ifPresent``;
    /// ``OAuthClient`` passes its provider's.
    public init(idToken: IDToken, emailVerification: EmailVerification = .ifPresent) {
        let claims = idToken.claims
        let verdict = emailVerification.verdict(claims.all)
        self.init(
            issuer: claims.issuer,
            subject: claims.subject,
            email: emailVerification.accepts(verdict) ? claims.email : nil,
            emailVerified: verdict,
            name: claims.name,
            preferredUsername: claims.preferredUsername,
            groups: claims.groups ?? [],
            sessionID: claims.sessionID)
    }
}

extension Identity {
    /// This identity with what the ID token left out taken from userinfo `claims` (their
    /// `sub` already checked): email (when `emailVerification` accepts it, as for ID tokens),
    /// name, preferred username and groups. What the ID token said wins.
    public func completed(
        byUserInfo claims: [String: JSONValue], emailVerification: EmailVerification = .ifPresent
    ) -> Identity {
        var identity = self
        if identity.email == nil, identity.emailVerified != false, let email = claims["email"]?.stringValue, !email.isEmpty {
            let verdict = emailVerification.verdict(claims)
            identity.emailVerified = verdict
            if emailVerification.accepts(verdict) { identity.email = email }
        }
        if identity.name == nil, let name = claims["name"]?.stringValue, !name.isEmpty { identity.name = name }
        if identity.preferredUsername == nil, let username = claims["preferred_username"]?.stringValue, !username.isEmpty {
            identity.preferredUsername = username
        }
        if identity.groups.isEmpty, case .array(let values)? = claims["groups"] {
            identity.groups = values.compactMap(\.stringValue)
        }
        return identity
    }
}

/// The outcome of a successful login.
public struct LoginResult: Sendable {
    public var tokens: TokenSet
    /// The validated ID token (OpenID Connect providers).
    public var idToken: IDToken?
    public var identity: Identity
}
