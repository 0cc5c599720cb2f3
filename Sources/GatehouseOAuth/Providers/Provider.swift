/// An identity provider: where its metadata comes from, how its issuer is compared, which
/// scopes to ask for, and how the signed-in identity is read.
public struct Provider: Sendable {
    /// Where the endpoints come from.
    public enum MetadataSource: Sendable {
        /// OpenID Connect Discovery at this URL.
        case discovery(String)
        /// Given by hand (providers without discovery, such as GitHub).
        case fixed(ProviderMetadata)
    }

    enum IdentitySource: Sendable {
        /// The validated ID token (and, optionally, userinfo).
        case idToken
        /// GitHub's REST API: `/user` and `/user/emails`.
        case gitHub(apiBaseURL: String)
    }

    /// A short name for logs and metrics (`oidc`, `google`, …).
    public var name: String
    public var metadataSource: MetadataSource
    public var issuerPolicy: IssuerPolicy
    /// The scopes requested when the configuration names none.
    public var defaultScopes: [String]
    let identitySource: IdentitySource
    /// When an `email` claim counts as verified. Default ``EmailVerification/ifPresent``;
    /// Microsoft: ``EmailVerification/always(claim:)`` with `xms_edov`.
    public var emailVerification: EmailVerification = .ifPresent
    /// Why this preset cannot be used as configured (``OAuthClient`` refuses it), if it cannot.
    var configurationProblem: String?

    /// Whether logins produce an ID token (OpenID Connect) or only an access token (OAuth 2.0).
    public var isOpenIDConnect: Bool {
        if case .idToken = identitySource { return true }
        return false
    }

    /// Any OpenID Connect issuer, found by discovery; its `iss` is compared exactly.
    public static func oidc(issuer: String) -> Provider {
        Provider(
            name: "oidc",
            metadataSource: .discovery(Discovery.configurationURL(forIssuer: issuer)),
            issuerPolicy: .exact(issuer),
            defaultScopes: ["openid", "email", "profile"],
            identitySource: .idToken)
    }
}
