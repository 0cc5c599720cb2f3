extension Provider {
    /// Google (https://developers.google.com/identity/openid-connect/openid-connect).
    /// Google's ID tokens carry `iss` with or without the scheme; both are accepted.
    public static let google = Provider(
        name: "google",
        metadataSource: .discovery("https://accounts.google.com/.well-known/openid-configuration"),
        issuerPolicy: .oneOf(["https://accounts.google.com", "accounts.google.com"]),
        defaultScopes: ["openid", "email", "profile"],
        identitySource: .idToken)

    /// Microsoft Entra ID v2.0. `tenant` is a tenant id or domain, or one of the multi-tenant
    /// aliases `common` and `organizations`: those publish the issuer as a template, and each
    /// ID token's `iss` is checked against its own `tid` (restricted to `allowedTenants` when
    /// given). `consumers` is the fixed personal-accounts tenant.
    public static func microsoft(tenant: String = "common", allowedTenants: Set<String>? = nil) -> Provider {
        let base = "https://login.microsoftonline.com"
        let policy: IssuerPolicy
        switch tenant.lowercased() {
        case "common", "organizations":
            policy = .tenantTemplate("\(base)/{tenantid}/v2.0", allowedTenants: allowedTenants)
        case "consumers":
            policy = .exact("\(base)/\(Self.microsoftConsumerTenant)/v2.0")
        default:
            policy = .exact("\(base)/\(tenant)/v2.0")
        }
        return Provider(
            name: "microsoft",
            metadataSource: .discovery("\(base)/\(tenant)/v2.0/.well-known/openid-configuration"),
            issuerPolicy: policy,
            defaultScopes: ["openid", "email", "profile", "offline_access"],
            identitySource: .idToken)
    }

    /// The tenant of personal Microsoft accounts.
    static let microsoftConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

    /// GitLab.com or a self-managed GitLab (an OpenID Connect provider; groups arrive as
    /// `groups_direct` in the ID token).
    public static func gitLab(baseURL: String = "https://gitlab.com") -> Provider {
        var provider = Provider.oidc(issuer: baseURL)
        provider.name = "gitlab"
        return provider
    }

    /// GitHub, an OAuth 2.0 provider without OpenID Connect: no discovery, no ID token. The
    /// identity comes from `GET /user`, the email from the verified primary address of
    /// `GET /user/emails`.
    public static func gitHub(
        webURL: String = "https://github.com",
        apiURL: String = "https://api.github.com"
    ) -> Provider {
        var metadata = ProviderMetadata(
            issuer: webURL,
            authorizationEndpoint: "\(webURL)/login/oauth/authorize",
            tokenEndpoint: "\(webURL)/login/oauth/access_token",
            userInfoEndpoint: "\(apiURL)/user")
        metadata.codeChallengeMethodsSupported = ["S256"]
        metadata.tokenEndpointAuthMethodsSupported = ["client_secret_post", "client_secret_basic"]
        return Provider(
            name: "github",
            metadataSource: .fixed(metadata),
            issuerPolicy: .exact(webURL),
            defaultScopes: ["read:user", "user:email"],
            identitySource: .gitHub(apiBaseURL: apiURL))
    }
}
