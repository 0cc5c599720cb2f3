/// A relying party registered at the development IdP.
public struct RegisteredClient: Sendable, Hashable {
    /// The signature algorithm of this client's ID and logout tokens.
    public enum SigningAlgorithm: String, Sendable, Hashable, CaseIterable {
        case rs256 = "RS256"
        case es256 = "ES256"
    }

    public var id: String
    /// `nil` for a public client (`token_endpoint_auth_method=none`, PKCE only). Confidential
    /// clients may use `client_secret_basic` or `client_secret_post`.
    public var secret: String?
    /// Exact strings (RFC 9700 §2.1: no pattern matching).
    public var redirectURIs: [String]
    /// Where `end_session_endpoint` may send the browser afterwards (exact strings).
    public var postLogoutRedirectURIs: [String]
    /// OpenID Connect Back-Channel Logout §2.2: where the logout token is POSTed. Default none.
    public var backchannelLogoutURI: String?
    /// OpenID Connect Front-Channel Logout §2: the page the IdP's logout page frames, with
    /// `iss` and `sid` added. Default none.
    public var frontchannelLogoutURI: String?
    /// RFC 9126 §6: authorization requests must come through `/par`. Default `false`.
    public var requirePushedAuthorizationRequests = false
    /// `id_token_signed_response_alg`. Default RS256.
    public var idTokenAlgorithm: SigningAlgorithm
    /// The public key (PEM, RSA or EC P-256) of a client that authenticates with
    /// `private_key_jwt` (RFC 7523 §2.2); such a client has no secret. Default none.
    public var assertionKeyPEM: String?

    public init(
        id: String, secret: String?, redirectURIs: [String], postLogoutRedirectURIs: [String] = [],
        backchannelLogoutURI: String? = nil, idTokenAlgorithm: SigningAlgorithm = .rs256, assertionKeyPEM: String? = nil,
        frontchannelLogoutURI: String? = nil
    ) {
        self.frontchannelLogoutURI = frontchannelLogoutURI
        self.id = id
        self.secret = secret
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.backchannelLogoutURI = backchannelLogoutURI
        self.idTokenAlgorithm = idTokenAlgorithm
        self.assertionKeyPEM = assertionKeyPEM
    }

    /// The client `gatehouse serve` uses with its defaults: id `gatehouse`, secret
    /// `gatehouse-dev-secret`, redirect URI `http://127.0.0.1:4180/oauth2/callback`.
    public static let gatewayDefault = RegisteredClient(
        id: "gatehouse", secret: "gatehouse-dev-secret",
        redirectURIs: ["http://127.0.0.1:4180/oauth2/callback"],
        postLogoutRedirectURIs: ["http://127.0.0.1:4180/"])
}
