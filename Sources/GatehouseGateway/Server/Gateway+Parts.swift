import GatehouseOAuth
import GatehouseStore
import Logging
import ServiceLifecycle

extension Gateway {
    /// The storage driver, the services it needs running, and its migration.
    static func makeDriver(_ store: GatewayConfiguration.Store, logger: Logger) throws -> (
        any StorageDriver, [any Service], @Sendable () async throws -> Void
    ) {
        do {
            switch store {
            case .sqlite(let path):
                let driver = try SQLiteDriver(path: path)
                return (driver, [], { try await driver.migrate() })
            case .postgres(let url):
                let driver = try PostgresDriver(url: url, logger: logger)
                return (driver, [PostgresDriverService(driver: driver)], { try await driver.migrate() })
            }
        } catch let error as StoreError {
            throw ConfigurationError("GATEHOUSE_STORE", error.detail ?? error.shortCode)
        }
    }

    /// The provider preset for `GATEHOUSE_PROVIDER`, with the email rule of
    /// `GATEHOUSE_REQUIRE_EMAIL_VERIFIED`.
    static func provider(_ configuration: GatewayConfiguration) -> Provider {
        var provider: Provider
        switch configuration.provider {
        case "google": provider = .google
        case "github": provider = .gitHub()
        case "gitlab": provider = .gitLab(baseURL: configuration.issuer ?? "https://gitlab.com")
        case "microsoft":
            provider = .microsoft(
                tenant: configuration.microsoftTenant, allowedTenants: .init(configuration.microsoftTenants))
        default: provider = .oidc(issuer: configuration.issuer ?? "")
        }
        provider.emailVerification = configuration.emailVerification(for: provider)
        return provider
    }

    static func makeOAuthClient(
        _ configuration: GatewayConfiguration, endpointOverrides: OAuthClient.EndpointOverrides, logger: Logger
    ) throws -> OAuthClient {
        try configuration.checkMicrosoftTenants()
        let authentication: ClientAuthentication
        switch (configuration.clientAuth, configuration.clientSecret) {
        case ("private_key_jwt", _):
            guard let key = configuration.clientKey else {
                throw ConfigurationError("GATEHOUSE_CLIENT_KEY_FILE", "is required by GATEHOUSE_CLIENT_AUTH=private_key_jwt")
            }
            authentication = .privateKeyJWT(key: key)
        case ("client_secret_post", let secret?): authentication = .clientSecretPost(secret)
        case ("client_secret_basic", let secret?): authentication = .clientSecretBasic(secret)
        case ("none", _), (nil, nil): authentication = .none
        // Not set: the provider's metadata decides (DESIGN §2, "from discovery").
        case (_, let secret?): authentication = .clientSecret(secret)
        case (_, nil): throw ConfigurationError("GATEHOUSE_CLIENT_SECRET", "is required by GATEHOUSE_CLIENT_AUTH")
        }
        var oauth = OAuthClient.Configuration(
            clientID: configuration.clientID, authentication: authentication,
            redirectURI: configuration.authSettings.redirectURI, scopes: configuration.scopes)
        oauth.timeout = configuration.idpTimeout
        oauth.idTokenMaxAge = configuration.idTokenMaxAge
        oauth.endpointOverrides = endpointOverrides
        do {
            return try OAuthClient(provider: provider(configuration), configuration: oauth, logger: logger)
        } catch {
            throw ConfigurationError("GATEHOUSE_PUBLIC_URL", error.message)
        }
    }
}

/// Runs the PostgreSQL pool for the application's lifetime.
struct PostgresDriverService: Service {
    let driver: PostgresDriver

    func run() async throws {
        await driver.run()
    }
}

/// Keeps the session cache in step with deletions made by other processes (PostgreSQL only;
/// ends at once for SQLite) until shutdown.
struct DeletionListenerService: Service {
    let store: SessionStore

    func run() async {
        await cancelWhenGracefulShutdown {
            await store.runDeletionListener()
        }
        // Without deletion notices the listener returns at once; a service that ends before
        // shutdown would end the whole application.
        try? await gracefulShutdown()
    }
}

/// Deletes expired sessions and pending logins every five minutes (starting a minute after
/// start-up) until shutdown.
struct PurgeService: Service {
    let store: SessionStore

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            // First wait: the schema is migrated just before the server starts, concurrently
            // with the services.
            try await Task.sleep(for: .seconds(60))
            await store.runPurgeLoop(every: .seconds(300))
        }
    }
}
