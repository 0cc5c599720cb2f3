import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import GatehouseSQLite
import GatehousePostgres
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

    /// The providers users sign in with (``GatewayConfiguration/loginProviders``), each with
    /// its OAuth client.
    static func makeLoginProviders(
        _ configuration: GatewayConfiguration, endpointOverrides: OAuthClient.EndpointOverrides, logger: Logger
    ) throws -> [LoginProvider] {
        try configuration.loginProviders.map { settings in
            let client = try settings.makeOAuthClient(
                gateway: configuration, endpointOverrides: endpointOverrides, logger: logger)
            var parameters = AuthorizationParameters()
            parameters.extra = settings.extraAuthParams
            do {
                return try LoginProvider(
                    id: settings.id, name: settings.name, client: client, authorizationParameters: parameters)
            } catch {
                throw ConfigurationError("providers", "\(error)")
            }
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
