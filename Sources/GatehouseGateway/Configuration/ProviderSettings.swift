public import GatehouseOAuth
import GatehouseHummingbird
import Logging

/// One identity provider of the gateway: an entry of the YAML `providers:` list, or the
/// environment's one-provider shorthand (`GATEHOUSE_PROVIDER`, `_ISSUER`, `_CLIENT_*`), whose
/// id is `default` (DESIGN §2).
public struct ProviderSettings: Sendable {
    /// `id`: `[a-z0-9-]+`; in the callback path `/oauth2/callback/{id}` and in sessions.
    public var id: String
    /// `name`: shown on the chooser page.
    public var name: String
    /// `preset`: `oidc` (with `issuer`), `google`, `github`, `microsoft`, `gitlab`.
    public var kind: String = "oidc"
    /// `issuer`: required for `oidc`.
    public var issuer: String?
    /// `microsoft_tenants`: the Entra ID tenant ids (`tid`, lower case) allowed to sign in
    /// with `microsoft`. Required with the multi-tenant issuers (`common`, `organizations`, or
    /// no issuer); a single-tenant issuer's tenant must be among them when given.
    public var microsoftTenants: [String] = []
    /// `require_email_verified`: `always` (`true`: an email counts only with
    /// `email_verified: true`, Microsoft `xms_edov: true`) or `if_present` (`false`: a missing
    /// claim counts as verified, as in oauth2-proxy). `nil`: `always` for Microsoft, else
    /// `if_present`.
    public var requireEmailVerified: Bool?
    /// `client_id`: required.
    public var clientID: String = ""
    /// `client_secret`, or the contents of `client_secret_file`.
    public var clientSecret: String?
    /// `client_auth`; `nil` decides: from the provider's metadata with a secret,
    /// `private_key_jwt` with a client key, `none` with neither.
    public var clientAuth: String?
    /// `client_key_file` (PEM private key: RSA ≥ 2048 bits or EC P-256) and `client_key_id`
    /// (the assertion's `kid`; default the key's RFC 7638 thumbprint), for `private_key_jwt`.
    public var clientKey: ClientSigningKey?
    /// `scopes`; `nil`: `openid email profile` (the preset's defaults).
    public var scopes: [String]?
    /// `par` (`GATEHOUSE_PAR`): push authorization requests (RFC 9126) `auto` (when the
    /// provider requires it), `always` or `never`. Default `auto`.
    public var pushedAuthorization: PushedAuthorization = .auto
    /// `jar` (`GATEHOUSE_JAR`): send authorization requests as request objects signed with
    /// the client key (RFC 9101); needs `private_key_jwt`. Default `false`.
    public var signsRequestObjects = false
    /// `dpop` (`GATEHOUSE_DPOP`): bind each session's tokens to its own DPoP key (RFC 9449),
    /// sealed with the session; the token is relayed upstream as `Authorization: DPoP` with a
    /// fresh proof per request. Default `false`.
    public var usesDPoP = false
    /// `profile` (`GATEHOUSE_PROFILE`, which applies to every provider that names none):
    /// `fapi2` forces PAR and DPoP, requires `private_key_jwt` (an RSA key signs PS256) and the
    /// RFC 9207 `iss`, and accepts PS256 and ES256 ID tokens only (``SecurityProfile/fapi2``).
    public var profile: SecurityProfile?
    /// `extra_auth_params`: added to each authorization request (`prompt`, `hd`, `login_hint`…).
    public var extraAuthParams: [(String, String)] = []
    /// How errors name a setting: `GATEHOUSE_ISSUER` for the shorthand,
    /// `providers[1] (corp).issuer` for a file entry.
    var place: @Sendable (_ variable: String) -> String = { "GATEHOUSE_" + $0 }

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    /// The Entra ID tenant ``issuer`` names (`https://login.microsoftonline.com/<tenant>/v2.0`),
    /// `common` without an issuer. Meaningful with `microsoft` only.
    var microsoftTenant: String {
        issuer.flatMap { issuer in issuer.split(separator: "/").dropFirst(2).first.map(String.init) } ?? "common"
    }

    /// Whether ``microsoftTenant`` lets users of any tenant sign in (`common`, `organizations`).
    var isMultiTenantMicrosoft: Bool {
        kind == "microsoft" && ["common", "organizations"].contains(microsoftTenant.lowercased())
    }

    /// The email rule in force: ``requireEmailVerified``, else the provider's default
    /// (`always` for Microsoft, `if_present` for the others).
    var requiresVerifiedEmail: Bool {
        requireEmailVerified ?? (kind == "microsoft")
    }

    /// ``microsoftTenants`` against the preset and issuer: a multi-tenant Microsoft issuer
    /// needs the tenant allow-list (nOAuth: another tenant's admin can give a user any address).
    func checkMicrosoftTenants() throws {
        if !microsoftTenants.isEmpty, kind != "microsoft" {
            throw ConfigurationError(place("MICROSOFT_TENANTS"), "is only used with the microsoft provider")
        }
        if isMultiTenantMicrosoft, microsoftTenants.isEmpty {
            throw ConfigurationError(
                place("MICROSOFT_TENANTS"),
                "is required with the microsoft provider and the multi-tenant issuer \(microsoftTenant): "
                    + "without it any Entra ID tenant can sign in, and its admins can give a user any email; "
                    + "list the tenant ids allowed, comma-separated")
        }
        let tenant = microsoftTenant.lowercased() == "consumers" ? Provider.microsoftConsumerTenant : microsoftTenant
        if kind == "microsoft", !isMultiTenantMicrosoft, !microsoftTenants.isEmpty,
            !microsoftTenants.contains(tenant.lowercased())
        {
            throw ConfigurationError(
                place("MICROSOFT_TENANTS"),
                "does not list the tenant of the issuer (\(microsoftTenant); name it there by its tenant id)")
        }
    }

    /// The email rule of `provider`, as configured: its claim (`xms_edov` for Microsoft), and
    /// ``requiresVerifiedEmail``.
    func emailVerification(for provider: Provider) -> EmailVerification {
        var rule = provider.emailVerification
        rule.isRequired = requiresVerifiedEmail
        return rule
    }

    /// The preset for ``kind``, with the email rule.
    var provider: Provider {
        var provider: Provider
        switch kind {
        case "google": provider = .google
        case "github": provider = .gitHub()
        case "gitlab": provider = .gitLab(baseURL: issuer ?? "https://gitlab.com")
        case "microsoft":
            provider = .microsoft(tenant: microsoftTenant, allowedTenants: .init(microsoftTenants))
        default: provider = .oidc(issuer: issuer ?? "")
        }
        provider.emailVerification = emailVerification(for: provider)
        return provider
    }

    /// The settings ``profile`` forbids, as configuration errors naming them.
    func checkProfile() throws {
        guard profile == .fapi2 else { return }
        guard clientSecret == nil else {
            throw ConfigurationError(
                place("CLIENT_SECRET"), "is not allowed with profile fapi2: it authenticates with private_key_jwt only")
        }
        guard clientKey != nil, clientAuth == nil || clientAuth == "private_key_jwt" else {
            throw ConfigurationError(
                place("CLIENT_KEY_FILE"),
                "is required with profile fapi2 (private_key_jwt, PS256 or ES256), and client_auth must be private_key_jwt")
        }
        if pushedAuthorization == .never {
            throw ConfigurationError(place("PAR"), "cannot be never with profile fapi2, which pushes every request")
        }
    }

    /// How the client authenticates at the token endpoint.
    func clientAuthentication() throws -> ClientAuthentication {
        switch (clientAuth, clientSecret) {
        case ("private_key_jwt", _):
            guard let key = clientKey else {
                throw ConfigurationError(place("CLIENT_KEY_FILE"), "is required by client authentication private_key_jwt")
            }
            // FAPI 2.0 allows PS256, never RS256 (§5.4.1): an RSA key signs PSS there.
            return .privateKeyJWT(key: profile == .fapi2 ? key.usingPSS() : key)
        case ("client_secret_post", let secret?): return .clientSecretPost(secret)
        case ("client_secret_basic", let secret?): return .clientSecretBasic(secret)
        case ("none", _), (nil, nil): return .none
        // Not set: the provider's metadata decides (DESIGN §2, "from discovery").
        case (_, let secret?): return .clientSecret(secret)
        case (_, nil): throw ConfigurationError(place("CLIENT_SECRET"), "is required by the client authentication")
        }
    }

    /// The OAuth client for this provider, its redirect URI the provider's callback under
    /// `gateway`'s public URL, with `gateway`'s IdP timeout and ID-token age.
    func makeOAuthClient(
        gateway: GatewayConfiguration, endpointOverrides: OAuthClient.EndpointOverrides, logger: Logger
    ) throws -> OAuthClient {
        try checkMicrosoftTenants()
        var oauth = OAuthClient.Configuration(
            clientID: clientID, authentication: try clientAuthentication(),
            redirectURI: gateway.publicURL + LoginProvider.callbackPath(for: id), scopes: scopes)
        oauth.timeout = gateway.idpTimeout
        oauth.idTokenMaxAge = gateway.idTokenMaxAge
        oauth.endpointOverrides = endpointOverrides
        oauth.retainedClaims = gateway.retainedClaimPaths
        oauth.pushedAuthorization = pushedAuthorization
        oauth.signsRequestObjects = signsRequestObjects
        oauth.usesDPoP = usesDPoP
        oauth.profile = profile
        do {
            return try OAuthClient(provider: provider, configuration: oauth, logger: logger)
        } catch {
            throw ConfigurationError(place("ISSUER"), error.message)
        }
    }
}
