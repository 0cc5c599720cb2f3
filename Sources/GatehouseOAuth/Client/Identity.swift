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

extension Identity {
    /// This identity with what the ID token left out taken from userinfo `claims` (their
    /// `sub` already checked): email (unless marked unverified, as for ID tokens), name,
    /// preferred username and groups. What the ID token said wins.
    public func completed(byUserInfo claims: [String: JSONValue]) -> Identity {
        var identity = self
        if identity.email == nil, identity.emailVerified != false, let email = claims["email"]?.stringValue, !email.isEmpty {
            let verified = claims["email_verified"]?.boolValue
            identity.emailVerified = verified
            if verified != false { identity.email = email }
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
