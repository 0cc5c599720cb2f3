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
    /// ID token's `iss` must equal the template with its own `tid`, which must be one of
    /// `allowedTenants`. A multi-tenant preset without `allowedTenants` is refused by
    /// ``OAuthClient`` (the admin of any tenant could otherwise sign in as any name and
    /// address); ``MicrosoftTenants/anyTenant`` is the explicit opt-out. With a single tenant,
    /// `allowedTenants` (when given) must name it. `consumers` is the fixed personal-accounts
    /// tenant.
    ///
    /// An email is trusted only with `xms_edov: true` (an optional claim: the email's domain
    /// owner is verified); Entra ID sends no `email_verified`.
    public static func microsoft(tenant: String = "common", allowedTenants: MicrosoftTenants = []) -> Provider {
        let base = "https://login.microsoftonline.com"
        let policy: IssuerPolicy
        var problem: String?
        switch tenant.lowercased() {
        case "common", "organizations":
            policy = .tenantTemplate("\(base)/{tenantid}/v2.0", allowedTenants: allowedTenants.ids)
            if allowedTenants.ids?.isEmpty == true {
                problem =
                    "the multi-tenant Microsoft tenant \(tenant) accepts every Entra ID tenant, whose admins can "
                    + "give a user any name and email: list the tenant ids allowed (allowedTenants)"
            }
        case "consumers":
            policy = .exact("\(base)/\(Self.microsoftConsumerTenant)/v2.0")
            problem = allowedTenants.problem(single: Self.microsoftConsumerTenant)
        default:
            policy = .exact("\(base)/\(tenant)/v2.0")
            problem = allowedTenants.problem(single: tenant)
        }
        var provider = Provider(
            name: "microsoft",
            metadataSource: .discovery("\(base)/\(tenant)/v2.0/.well-known/openid-configuration"),
            issuerPolicy: policy,
            defaultScopes: ["openid", "email", "profile", "offline_access"],
            identitySource: .idToken,
            emailVerification: .always(claim: "xms_edov"))
        provider.configurationProblem = problem
        return provider
    }

    /// The Entra ID tenants (their ids, `tid`) whose users may sign in through a Microsoft
    /// preset. Compared without regard to case.
    public struct MicrosoftTenants: Sendable, Hashable, ExpressibleByArrayLiteral {
        /// `nil`: any tenant.
        let ids: Set<String>?

        private init(ids: Set<String>?) { self.ids = ids }

        public init(_ ids: some Sequence<String>) {
            self.init(ids: Set(ids.map { $0.lowercased() }))
        }

        public init(arrayLiteral ids: String...) { self.init(ids) }

        /// Every tenant: whoever creates one can sign in, named and addressed as they like.
        /// Only for applications that decide on `tid` and `sub` themselves.
        public static let anyTenant = MicrosoftTenants(ids: nil)

        /// Why a single-tenant preset for `tenant` cannot use this list, if it cannot.
        func problem(single tenant: String) -> String? {
            guard let ids, !ids.isEmpty, !ids.contains(tenant.lowercased()) else { return nil }
            return "the Microsoft tenant \(tenant) is not among the allowed tenants (give its tenant id)"
        }
    }

    /// The tenant of personal Microsoft accounts (`consumers`).
    public static let microsoftConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

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
