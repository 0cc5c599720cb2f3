public import Foundation

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
    /// `acr`: the authentication context class the login satisfied (OIDC Core §2), for step-up.
    public var acr: String?
    /// `auth_time`: when the user last authenticated at the IdP, for `max_age` step-up.
    public var authTime: Date?
    /// The claims an application asked to keep (``OAuthClient/Configuration/retainedClaims``),
    /// by dotted path (`org.id`): a string, number or boolean as its text, an array as the
    /// texts of its scalar elements. Empty unless asked for.
    public var claims: [String: [String]]

    public init(
        issuer: String,
        subject: String,
        email: String? = nil,
        emailVerified: Bool? = nil,
        name: String? = nil,
        preferredUsername: String? = nil,
        groups: [String] = [],
        sessionID: String? = nil,
        acr: String? = nil,
        authTime: Date? = nil,
        claims: [String: [String]] = [:]
    ) {
        self.acr = acr
        self.authTime = authTime
        self.claims = claims
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
            sessionID: claims.sessionID,
            acr: claims.all["acr"]?.stringValue,
            authTime: claims.authTime)
    }

    private enum CodingKeys: String, CodingKey {
        case issuer, subject, email, emailVerified, name, preferredUsername, groups, sessionID, acr, authTime, claims
    }

    /// Decodes identities stored before ``acr``, ``authTime`` and ``claims`` existed too.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            issuer: try container.decode(String.self, forKey: .issuer),
            subject: try container.decode(String.self, forKey: .subject),
            email: try container.decodeIfPresent(String.self, forKey: .email),
            emailVerified: try container.decodeIfPresent(Bool.self, forKey: .emailVerified),
            name: try container.decodeIfPresent(String.self, forKey: .name),
            preferredUsername: try container.decodeIfPresent(String.self, forKey: .preferredUsername),
            groups: try container.decodeIfPresent([String].self, forKey: .groups) ?? [],
            sessionID: try container.decodeIfPresent(String.self, forKey: .sessionID),
            acr: try container.decodeIfPresent(String.self, forKey: .acr),
            authTime: try container.decodeIfPresent(Date.self, forKey: .authTime),
            claims: try container.decodeIfPresent([String: [String]].self, forKey: .claims) ?? [:])
    }

    /// The values at each of `paths` (dotted: `org.id` is `{"org": {"id": …}}`) in `claims`,
    /// kept in ``claims``; paths with no scalar value there are left out.
    public mutating func retain(_ paths: [String], from claims: [String: JSONValue]) {
        for path in paths {
            var value: JSONValue? = nil
            var level = claims
            let keys = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            for (index, key) in keys.enumerated() {
                guard let next = level[key] else { value = nil; break }
                if index == keys.count - 1 {
                    value = next
                } else if case .object(let inner) = next {
                    level = inner
                } else {
                    value = nil
                    break
                }
            }
            let texts: [String] =
                switch value {
                case .array(let items)?: items.compactMap(Self.scalarText)
                case let scalar?: Self.scalarText(scalar).map { [$0] } ?? []
                case nil: []
                }
            if !texts.isEmpty { self.claims[path] = texts }
        }
    }

    /// A string as itself, a number without a needless `.0`, a boolean as `true`/`false`.
    static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number):
            number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        default: nil
        }
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
