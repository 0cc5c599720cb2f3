public import Foundation

/// Optional parameters of an authorization request (OpenID Connect Core §3.1.2.1, RFC 8707).
public struct AuthorizationParameters: Sendable {
    /// Scopes for this request; `nil` uses the client's configured scopes.
    public var scopes: [String]?
    /// `prompt`: `none`, `login`, `consent`, `select_account`.
    public var prompt: String?
    public var loginHint: String?
    public var acrValues: [String]?
    public var maxAge: Int?
    /// RFC 8707 `resource` indicators (may repeat).
    public var resources: [String]
    /// Auth0-style `audience`.
    public var audience: String?
    /// RFC 9449 §10 `dpop_jkt`: the thumbprint of the DPoP key the code will be redeemed with
    /// (``DPoPKey/thumbprint``), binding the code to it.
    public var dpopKeyThumbprint: String?
    /// Anything else a provider understands. The protocol parameters Gatehouse sets itself
    /// (`state`, `nonce`, `code_challenge`, …) cannot be overridden here.
    public var extra: [(String, String)]

    public init(
        scopes: [String]? = nil,
        prompt: String? = nil,
        loginHint: String? = nil,
        acrValues: [String]? = nil,
        maxAge: Int? = nil,
        resources: [String] = [],
        audience: String? = nil,
        extra: [(String, String)] = []
    ) {
        self.scopes = scopes
        self.prompt = prompt
        self.loginHint = loginHint
        self.acrValues = acrValues
        self.maxAge = maxAge
        self.resources = resources
        self.audience = audience
        self.extra = extra
    }

    /// The parameters Gatehouse sets itself, which ``extra`` cannot name.
    public static let reservedNames: Set<String> = [
        "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
        "code_challenge", "code_challenge_method", "request", "request_uri", "dpop_jkt",
    ]
}

/// The secrets of one login attempt: keep them server-side (never in the URL or a readable
/// cookie) until the callback, then pass them to `OAuthClient.exchange`.
public struct PendingAuthorization: Sendable, Hashable, Codable {
    /// `state`: 256 random bits, single use. Compare with the callback's before anything else.
    public var state: String
    /// `nonce`: 256 random bits, echoed in the ID token (OIDC Core §3.1.2.1).
    public var nonce: String
    /// The PKCE `code_verifier`.
    public var codeVerifier: String
    /// The `redirect_uri` the request used; the token request must repeat it.
    public var redirectURI: String
    /// When the attempt started.
    public var createdAt: Date
    /// The DPoP key whose thumbprint the request sent as `dpop_jkt` (with
    /// ``OAuthClient/Configuration/usesDPoP``): the code is redeemed with it, and the tokens
    /// are bound to it for the session's life.
    public var dpopKey: DPoPKey?

    public init(
        state: String, nonce: String, codeVerifier: String, redirectURI: String, createdAt: Date, dpopKey: DPoPKey? = nil
    ) {
        self.state = state
        self.nonce = nonce
        self.codeVerifier = codeVerifier
        self.redirectURI = redirectURI
        self.createdAt = createdAt
        self.dpopKey = dpopKey
    }
}

/// An authorization request ready to send the browser to.
public struct AuthorizationRequest: Sendable {
    /// The IdP URL to redirect the browser to.
    public let url: URL
    /// The secrets to keep for the callback.
    public let pending: PendingAuthorization
}
