import Foundation

/// A validated authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1),
/// kept server-side while the user signs in.
struct AuthorizationRequest: Sendable {
    var clientID: String
    var redirectURI: String
    var state: String?
    var nonce: String?
    var scopes: [String]
    var codeChallenge: String
    /// `prompt=login` forces the password form even with an IdP session.
    var forceLogin: Bool
    /// `prompt=none`: answer `login_required` rather than show a form.
    var silent: Bool
    /// `acr_values`, in order of preference (OIDC Core §3.1.2.1; voluntary: an unsupported
    /// level is ignored and the login gets the level it reached).
    var acrValues: [String] = []
    /// `max_age`: an IdP session authenticated longer ago than this signs in again.
    var maxAge: Int? = nil
    /// RFC 9449 §10 `dpop_jkt`: the code may be redeemed only with a proof of this key.
    var dpopKeyThumbprint: String? = nil

    /// Whether the request asks for the one-time code step (``AuthenticationLevel/mfa``).
    var wantsMFA: Bool { acrValues.contains(AuthenticationLevel.mfa) }
}

/// The authentication levels (`acr`) of the development IdP: a password, or a password and a
/// one-time code (the fixed development code ``developmentCode``, shown on the form).
enum AuthenticationLevel {
    static let password = "pwd"
    static let mfa = "mfa"
    static let supported = [password, mfa]
    static let developmentCode = "123456"
}

/// A login form on its way: the request and the value of the browser-binding cookie, so a form
/// posted from another browser (login CSRF) is refused.
struct Interaction: Sendable {
    var request: AuthorizationRequest
    var bindingHash: String
    var expiresAt: Date
}

/// A sign-in at the IdP (its SSO session): `sid` in the tokens, the cookie's hash as the key.
struct LoginSession: Sendable {
    var sessionID: String
    var subject: String
    var authTime: Date
    var expiresAt: Date
    /// Clients that received tokens in this session (back-channel logout goes to them).
    var clientIDs: Set<String> = []
    /// The level the user authenticated at (``AuthenticationLevel``).
    var acr = AuthenticationLevel.password
}

/// An issued authorization code: what it was issued for, until it is redeemed.
struct CodeGrant: Sendable {
    var request: AuthorizationRequest
    var sessionID: String
    var subject: String
    var authTime: Date
    var expiresAt: Date
    var acr = AuthenticationLevel.password
}

/// A grant: the tokens issued from one authorization code, through every refresh. Reusing a
/// code or a rotated refresh token revokes the whole family (RFC 9700 §4.14.2).
struct TokenFamily: Sendable {
    var id: String
    var clientID: String
    var subject: String
    var sessionID: String
    var scopes: [String]
    var authTime: Date
    var expiresAt: Date
    var acr = AuthenticationLevel.password
    /// The DPoP key the family's tokens are bound to (`cnf.jkt`); `nil`: bearer tokens.
    var dpopKeyThumbprint: String? = nil
    var revoked = false
    var accessTokenHashes: Set<String> = []
    var refreshTokenHashes: Set<String> = []
}

/// An issued refresh token: its family and whether it has been exchanged already.
struct RefreshRecord: Sendable {
    var familyID: String
    var expiresAt: Date
    var used = false
}

/// An issued access token.
struct AccessRecord: Sendable {
    var familyID: String
    var expiresAt: Date
    var revoked = false
}

/// Why a grant was refused at the token endpoint.
enum GrantFailure: Error, Equatable {
    /// RFC 6749 §5.2 `invalid_grant`, with a description safe to return.
    case invalidGrant(String)
}
