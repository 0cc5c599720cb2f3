public import Foundation
import GatehouseHummingbird
import GatehouseOAuth

extension GatewayConfiguration {
    /// Reads and validates the configuration: the `GATEHOUSE_*` variables of `environment`,
    /// then the YAML `file` (same names, lower case, no prefix). The environment wins.
    ///
    /// - Throws: ``ConfigurationError`` naming the first variable at fault.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        file: String? = nil
    ) async throws -> GatewayConfiguration {
        let values = try await ConfigValues.load(environment: environment, file: file)
        return try GatewayConfiguration(values: values)
    }

    /// Only the `routes:` of the YAML `file` (for `gatehouse demo --config`), checked as
    /// `serve` checks them against `publicURL`; empty when the file has none.
    public static func routes(file: String, publicURL: String) async throws -> [Route] {
        try await sections(file: file, publicURL: publicURL).routes
    }

    /// The `providers:` and `routes:` of the YAML `file` (for `gatehouse demo --config`),
    /// checked as `serve` checks them; each empty when the file has none.
    public static func sections(file: String, publicURL: String) async throws -> (
        providers: [ProviderSettings], routes: [Route]
    ) {
        let values = try await ConfigValues.load(environment: [:], file: file)
        let providers = try values.providers.map(ProvidersFile.providers) ?? []
        guard let node = values.routes else { return (providers, []) }
        var configuration = GatewayConfiguration()
        configuration.publicURL = publicURL
        let providerIDs = providers.isEmpty ? [LoginProvider.defaultID] : providers.map(\.id)
        return (providers, try RoutesFile.routes(node, publicHost: configuration.publicHost, providerIDs: providerIDs))
    }

    init(values: ConfigValues) throws {
        self.init()
        if let listen = values.string("LISTEN") {
            (listenHost, listenPort) = try ConfigParsing.listen(listen, variable: "GATEHOUSE_LISTEN")
        }
        if let url = values.string("PUBLIC_URL") {
            publicURL = try ConfigParsing.baseURL(url, variable: "GATEHOUSE_PUBLIC_URL")
        }
        if let profile = values.string("PROFILE") {
            self.profile = try ProvidersFile.profile(profile, place: { "GATEHOUSE_" + $0 })
        }
        if let providers = values.providers {
            for name in Self.shorthandProviderVariables where values.string(name) != nil {
                throw ConfigurationError(
                    "GATEHOUSE_" + name, "set either the one-provider variables or providers: in the config file, not both")
            }
            self.providers = try ProvidersFile.providers(providers)
        } else {
            try loadShorthandProvider(values)
        }
        try applyProfile()
        if let timeout = values.string("UPSTREAM_TIMEOUT") {
            upstreamTimeout = try ConfigParsing.duration(timeout, variable: "GATEHOUSE_UPSTREAM_TIMEOUT")
            guard upstreamTimeout >= .seconds(1) else {
                throw ConfigurationError("GATEHOUSE_UPSTREAM_TIMEOUT", "must be at least 1s")
            }
        }
        if let timeout = values.string("IDP_TIMEOUT") {
            idpTimeout = try ConfigParsing.duration(timeout, variable: "GATEHOUSE_IDP_TIMEOUT")
        }
        if let domain = values.string("COOKIE_DOMAIN") {
            cookieDomain = try Self.cookieDomain(domain, publicHost: Route.hostName(of: publicHost))
        }
        if let routes = values.routes {
            guard values.string("UPSTREAM") == nil else {
                throw ConfigurationError(
                    "GATEHOUSE_UPSTREAM", "set either it (the one default route) or routes: in the config file, not both")
            }
            self.routes = try RoutesFile.routes(
                routes, publicHost: publicHost, providerIDs: loginProviders.map(\.id), cookieDomain: cookieDomain)
        } else {
            guard let upstream = values.string("UPSTREAM") else {
                throw ConfigurationError("GATEHOUSE_UPSTREAM", "is required: the URL of the application behind the gateway")
            }
            self.upstream = try ConfigParsing.baseURL(upstream, variable: "GATEHOUSE_UPSTREAM", isUpstream: true)
        }
        let storeAccess = try StoreAccess(values: values)
        store = storeAccess.store
        encryptionKeys = storeAccess.encryptionKeys
        if let secure = values.string("COOKIE_SECURE") {
            cookieSecure = try ConfigParsing.bool(secure, variable: "GATEHOUSE_COOKIE_SECURE")
        }
        if !cookieSecure, !ConfigParsing.isLoopbackURL(publicURL) {
            throw ConfigurationError(
                "GATEHOUSE_COOKIE_SECURE", "may be false only when GATEHOUSE_PUBLIC_URL is a loopback address")
        }
        if let idle = values.string("SESSION_IDLE_TIMEOUT") {
            sessionIdleTimeout = try ConfigParsing.duration(idle, variable: "GATEHOUSE_SESSION_IDLE_TIMEOUT")
        }
        if let maxAge = values.string("SESSION_MAX_AGE") {
            sessionMaxAge = try ConfigParsing.duration(maxAge, variable: "GATEHOUSE_SESSION_MAX_AGE")
        }
        rules = try Self.rules(values)
        if let pass = values.string("PASS_ACCESS_TOKEN") {
            passAccessToken = try ConfigParsing.bool(pass, variable: "GATEHOUSE_PASS_ACCESS_TOKEN")
        }
        if let bearer = values.string("ALLOW_BEARER") {
            allowBearer = try ConfigParsing.bool(bearer, variable: "GATEHOUSE_ALLOW_BEARER")
        }
        if allowBearer, loginProviders[0].kind == "github" {
            throw ConfigurationError("GATEHOUSE_ALLOW_BEARER", "needs an OpenID Connect provider (GitHub issues no JWTs)")
        }
        bearerAudiences = values.list("BEARER_AUDIENCE")
        if values.string("BEARER_AUDIENCE") != nil, bearerAudiences.isEmpty {
            throw ConfigurationError("GATEHOUSE_BEARER_AUDIENCE", "must name at least one audience")
        }
        if let maxAge = values.string("ID_TOKEN_MAX_AGE") {
            idTokenMaxAge = try ConfigParsing.duration(maxAge, variable: "GATEHOUSE_ID_TOKEN_MAX_AGE")
            guard idTokenMaxAge >= .seconds(1) else {
                throw ConfigurationError("GATEHOUSE_ID_TOKEN_MAX_AGE", "must be at least 1s")
            }
        }
        if let csrf = values.string("PROXY_CSRF") {
            proxyCSRF = try ConfigParsing.bool(csrf, variable: "GATEHOUSE_PROXY_CSRF")
        }
        if let name = values.string("CSRF_HEADER") {
            let chosen = name.lowercased() == "true" ? CSRFHeader.defaultName : name
            guard (try? ConfigParsing.fieldNames([chosen], variable: "GATEHOUSE_CSRF_HEADER")) != nil,
                !chosen.contains(","), chosen.lowercased() != "false"
            else {
                throw ConfigurationError("GATEHOUSE_CSRF_HEADER", "must be a header name like X-CSRF (or true for X-CSRF)")
            }
            csrfHeader = chosen
        }
        if let direct = values.string("DIRECT_PROXY") {
            directProxy = try ConfigParsing.bool(direct, variable: "GATEHOUSE_DIRECT_PROXY")
        }
        if let limit = values.string("UPSTREAM_MAX_CONNECTIONS") {
            guard let count = Int(limit), (1...100_000).contains(count) else {
                throw ConfigurationError("GATEHOUSE_UPSTREAM_MAX_CONNECTIONS", "must be a whole number from 1 to 100000")
            }
            upstreamMaxConnections = count
        }
        skipAuthRoutes = try SkipAuthRoutes(parsing: values.list("SKIP_AUTH_ROUTES"))
        trustedProxies = try TrustedProxies(parsing: values.list("TRUSTED_PROXIES"))
        (maxPendingLogins, maxPendingLoginsPerClient) = try Self.pendingLogins(values)
        stripRequestHeaders = try ConfigParsing.fieldNames(
            values.list("STRIP_REQUEST_HEADERS"), variable: "GATEHOUSE_STRIP_REQUEST_HEADERS")
        if let listen = values.string("METRICS_LISTEN") {
            metricsListen = try ConfigParsing.listen(listen, variable: "GATEHOUSE_METRICS_LISTEN")
            if let metrics = metricsListen, metrics.host == listenHost, metrics.port == listenPort, listenPort != 0 {
                throw ConfigurationError("GATEHOUSE_METRICS_LISTEN", "must differ from GATEHOUSE_LISTEN")
            }
        }
        try loadBodyRate(values)
        logLevel = values.string("LOG_LEVEL")?.lowercased() ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw ConfigurationError(
                "GATEHOUSE_LOG_LEVEL", "must be trace, debug, info, notice, warning, error or critical")
        }
        logFormat = values.string("LOG_FORMAT")?.lowercased() ?? "text"
        guard ["text", "json"].contains(logFormat) else {
            throw ConfigurationError("GATEHOUSE_LOG_FORMAT", "must be text or json")
        }
    }

    /// `GATEHOUSE_COOKIE_DOMAIN`: a domain name (not an address) that the public URL's host is
    /// or is under.
    static func cookieDomain(_ text: String, publicHost: String) throws -> String {
        var domain = text.lowercased()
        if domain.hasPrefix(".") { domain.removeFirst() }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.isEmpty, labels.allSatisfy({ label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
        }), !labels.allSatisfy({ $0.allSatisfy(\.isNumber) }), labels.last?.allSatisfy(\.isNumber) == false
        else {
            throw ConfigurationError("GATEHOUSE_COOKIE_DOMAIN", "must be a domain name like example.com (not an address)")
        }
        guard publicHost == domain || publicHost.hasSuffix("." + domain) else {
            throw ConfigurationError(
                "GATEHOUSE_COOKIE_DOMAIN", "must be GATEHOUSE_PUBLIC_URL's host (\(publicHost)) or a domain above it")
        }
        return domain
    }

    /// `GATEHOUSE_PROFILE` for every provider that names none itself, and each provider's
    /// settings checked against its profile.
    private mutating func applyProfile() throws {
        if providers.isEmpty {
            shorthandProvider.profile = shorthandProvider.profile ?? profile
            try shorthandProvider.checkProfile()
        }
        for index in providers.indices {
            providers[index].profile = providers[index].profile ?? profile
            try providers[index].checkProfile()
        }
    }

    /// The variables of the environment's one provider (`GATEHOUSE_` + name).
    static let shorthandProviderVariables = [
        "PROVIDER", "ISSUER", "CLIENT_ID", "CLIENT_SECRET", "CLIENT_SECRET_FILE", "CLIENT_KEY_FILE", "CLIENT_KEY_ID",
        "CLIENT_AUTH", "SCOPES", "MICROSOFT_TENANTS", "REQUIRE_EMAIL_VERIFIED", "PAR", "JAR",
        "DPOP",
    ]

    /// `GATEHOUSE_PROVIDER`, `_ISSUER`, `_CLIENT_*`, `_SCOPES` and the identity settings.
    private mutating func loadShorthandProvider(_ values: ConfigValues) throws {
        let kind = values.string("PROVIDER")?.lowercased() ?? "oidc"
        guard ProvidersFile.presets.contains(kind) else {
            throw ConfigurationError("GATEHOUSE_PROVIDER", "must be oidc, google, github, microsoft or gitlab")
        }
        var provider = ProviderSettings(id: LoginProvider.defaultID, name: Self.displayName(ofPreset: kind))
        provider.kind = kind
        provider.issuer = try values.string("ISSUER").map { try ConfigParsing.issuer($0, variable: "GATEHOUSE_ISSUER") }
        if kind == "oidc", provider.issuer == nil {
            throw ConfigurationError("GATEHOUSE_ISSUER", "is required with GATEHOUSE_PROVIDER=oidc")
        }
        guard let clientID = values.string("CLIENT_ID") else {
            throw ConfigurationError("GATEHOUSE_CLIENT_ID", "is required")
        }
        provider.clientID = clientID
        let place = provider.place
        provider.clientSecret = try ClientCredentials.secret(
            inline: values.string("CLIENT_SECRET", secret: true), file: values.string("CLIENT_SECRET_FILE"), place: place)
        provider.clientKey = try ClientCredentials.key(
            file: values.string("CLIENT_KEY_FILE"), keyID: values.string("CLIENT_KEY_ID"), place: place)
        provider.clientAuth = try ClientCredentials.method(
            values.string("CLIENT_AUTH")?.lowercased(), hasSecret: provider.clientSecret != nil,
            hasKey: provider.clientKey != nil, place: place)
        let scopes = values.list("SCOPES", separator: " ")
        provider.scopes = scopes.isEmpty ? nil : scopes
        if let par = values.string("PAR") {
            provider.pushedAuthorization = try ProvidersFile.pushedAuthorization(par, place: place)
        }
        if let jar = values.string("JAR") {
            provider.signsRequestObjects = try ConfigParsing.bool(jar, variable: "GATEHOUSE_JAR")
            try ProvidersFile.checkRequestObjects(provider)
        }
        if let dpop = values.string("DPOP") {
            provider.usesDPoP = try ConfigParsing.bool(dpop, variable: "GATEHOUSE_DPOP")
        }
        shorthandProvider = provider
        try loadIdentitySettings(values)
    }

    private static func rules(_ values: ConfigValues) throws -> AccessRules {
        let emails = values.list("ALLOWED_EMAILS")
        for email in emails where !email.contains("@") {
            throw ConfigurationError("GATEHOUSE_ALLOWED_EMAILS", "\"\(email)\" is not an email address")
        }
        let domains = values.list("ALLOWED_EMAIL_DOMAINS")
        for domain in domains where domain.contains("/") || domain.contains(" ") || domain.dropFirst().contains("@") {
            throw ConfigurationError("GATEHOUSE_ALLOWED_EMAIL_DOMAINS", "\"\(domain)\" is not a domain")
        }
        return AccessRules(emails: emails, emailDomains: domains, groups: values.list("ALLOWED_GROUPS"))
    }
}
