import JWTKit

/// The claims of every JWT the IdP signs — ID tokens (OIDC Core §2), access tokens (RFC 9068
/// §2.2) and logout tokens (Back-Channel Logout §2.4). Absent claims are left out.
struct TokenClaims: JWTPayload, Equatable {
    /// The `events` member of a logout token: `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    struct Events: Codable, Equatable, Sendable {
        struct Empty: Codable, Equatable, Sendable {}
        var backchannelLogout = Empty()

        enum CodingKeys: String, CodingKey {
            case backchannelLogout = "http://schemas.openid.net/event/backchannel-logout"
        }
    }

    var issuer: String
    var subject: String
    var audience: String
    var expiresAt: Int
    var issuedAt: Int
    var authTime: Int?
    /// The authentication level (`acr`, OIDC Core §2).
    var acr: String?
    /// RFC 9449 §6: the DPoP key an access token is bound to, `{"jkt": thumbprint}`.
    var cnf: [String: String]?
    var nonce: String?
    var accessTokenHash: String?
    var sessionID: String?
    var tokenID: String?
    var clientID: String?
    var scope: String?
    var email: String?
    var emailVerified: Bool?
    var name: String?
    var preferredUsername: String?
    var groups: [String]?
    var events: Events?

    enum CodingKeys: String, CodingKey {
        case issuer = "iss", subject = "sub", audience = "aud", expiresAt = "exp", issuedAt = "iat"
        case authTime = "auth_time", acr, cnf, nonce, accessTokenHash = "at_hash", sessionID = "sid", tokenID = "jti"
        case clientID = "client_id", scope, email, emailVerified = "email_verified", name
        case preferredUsername = "preferred_username", groups, events
    }

    init(issuer: String, subject: String, audience: String, issuedAt: Int, lifetime: Duration) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.issuedAt = issuedAt
        self.expiresAt = issuedAt + Int(lifetime.components.seconds)
    }

    /// The caller checks what it needs (the IdP only reads back its own `id_token_hint`).
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// Adds the user's claims the granted scopes allow (OIDC Core §5.4): `email` →
    /// `email`, `email_verified`; `profile` → `name`, `preferred_username`, `groups`.
    mutating func addUserClaims(_ user: TestUser, scopes: Set<String>) {
        if scopes.contains("email"), let email = user.email {
            self.email = email
            self.emailVerified = user.emailVerified
        }
        if scopes.contains("profile") {
            name = user.name
            preferredUsername = user.username
            groups = user.groups
        }
    }
}
