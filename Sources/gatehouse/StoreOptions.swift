import ArgumentParser
import Foundation
import GatehouseOAuth
import GatehouseStore
import Logging

/// Where the session store is and how it is keyed: `GATEHOUSE_STORE` and
/// `GATEHOUSE_ENCRYPTION_KEYS` (DESIGN §2). Keys come only from the environment, never from a
/// flag, because command lines are visible to every user of the machine.
struct StoreOptions: ParsableArguments {
    @Option(help: "sqlite:PATH or postgres://… (default: $GATEHOUSE_STORE, else sqlite:gatehouse.db)")
    var store: String?

    var location: String {
        store ?? ProcessInfo.processInfo.environment["GATEHOUSE_STORE"] ?? "sqlite:gatehouse.db"
    }

    /// The key ring from `GATEHOUSE_ENCRYPTION_KEYS`.
    func keyRing() throws -> KeyRing {
        guard let keys = ProcessInfo.processInfo.environment["GATEHOUSE_ENCRYPTION_KEYS"], !keys.isEmpty else {
            throw ValidationError("GATEHOUSE_ENCRYPTION_KEYS is not set (create a key with `gatehouse keys generate`)")
        }
        do {
            return try KeyRing(base64Keys: keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        } catch {
            throw ValidationError("GATEHOUSE_ENCRYPTION_KEYS: \(error)")
        }
    }

    /// Opens the store for the duration of `body`.
    func withStore<T: Sendable>(_ body: (SessionStore) async throws -> T) async throws -> T {
        let keyRing = try keyRing()
        let logger = Logger(label: "gatehouse.store")
        let location = self.location
        if location.hasPrefix("sqlite:") {
            let path = String(location.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ValidationError("GATEHOUSE_STORE: sqlite: needs a file path") }
            let driver = try SQLiteDriver(path: path)
            try await driver.migrate()
            return try await body(SessionStore(driver: driver, keyRing: keyRing, logger: logger))
        }
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try await PostgresDriver.withDriver(url: location, logger: logger) { driver in
                try await body(SessionStore(driver: driver, keyRing: keyRing, logger: logger))
            }
        }
        throw ValidationError("GATEHOUSE_STORE must be sqlite:PATH or postgres://…")
    }
}
