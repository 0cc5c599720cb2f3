public import Foundation
public import GatehouseStore
public import Logging

/// Where the sessions are and how they are sealed — `GATEHOUSE_STORE` and
/// `GATEHOUSE_ENCRYPTION_KEYS`, read from the environment and the YAML file exactly as
/// `gatehouse serve` reads them — for the commands that administer the gateway's sessions
/// (`sessions`, `keys reencrypt`): they must act on the store the gateway uses, not on a
/// default one.
public struct StoreAccess: Sendable {
    public var store: GatewayConfiguration.Store
    public var encryptionKeys: [String]

    public init(store: GatewayConfiguration.Store, encryptionKeys: [String]) {
        self.store = store
        self.encryptionKeys = encryptionKeys
    }

    init(values: ConfigValues, storeOverride: String? = nil) throws {
        store = .sqlite(path: "gatehouse.db")
        if let text = storeOverride ?? values.string("STORE", secret: true) {
            store = try ConfigParsing.store(text)
        }
        encryptionKeys = values.list("ENCRYPTION_KEYS")
        guard !encryptionKeys.isEmpty else {
            throw ConfigurationError(
                "GATEHOUSE_ENCRYPTION_KEYS", "is required: comma-separated base64 keys (make one with `gatehouse keys generate`)")
        }
    }

    /// The settings from `environment` and the YAML `file`; `storeOverride` (a command's
    /// `--store`) wins over both.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment, file: String? = nil,
        storeOverride: String? = nil
    ) async throws -> StoreAccess {
        try StoreAccess(values: try await ConfigValues.load(environment: environment, file: file), storeOverride: storeOverride)
    }

    /// The key ring, or an error naming `GATEHOUSE_ENCRYPTION_KEYS`.
    public func keyRing() throws -> KeyRing {
        do {
            return try KeyRing(base64Keys: encryptionKeys)
        } catch let error as StoreError {
            throw ConfigurationError("GATEHOUSE_ENCRYPTION_KEYS", error.detail ?? error.shortCode)
        }
    }

    /// Runs `body` with the store open (migrated). A SQLite file must already exist: an
    /// administration command pointed at the wrong path must say so, not create an empty store
    /// and report that it revoked nothing.
    public func withStore<T: Sendable>(logger: Logger, _ body: (SessionStore) async throws -> T) async throws -> T {
        let keyRing = try keyRing()
        if case .sqlite(let path) = store, !FileManager.default.fileExists(atPath: path) {
            throw ConfigurationError("GATEHOUSE_STORE", "no SQLite store at \(path)")
        }
        // The driver as `serve` makes it; its services (PostgreSQL's pool) run for `body`'s time.
        let (driver, services, migrate) = try Gateway.makeDriver(store, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            for service in services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            try await migrate()
            return try await body(SessionStore(driver: driver, keyRing: keyRing, logger: logger))
        }
    }
}
