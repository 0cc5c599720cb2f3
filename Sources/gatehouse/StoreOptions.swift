import ArgumentParser
import GatehouseGateway
import GatehouseStore
import Logging

/// The session store the gateway uses: `GATEHOUSE_STORE` and `GATEHOUSE_ENCRYPTION_KEYS` from
/// the environment or the `--config` YAML file, as `gatehouse serve` reads them
/// (``StoreAccess``). Keys never come from a flag: command lines are visible to every user of
/// the machine.
struct StoreOptions: ParsableArguments {
    @Option(help: "YAML configuration file, as for `serve` (the environment wins).")
    var config: String?

    @Option(help: "sqlite:PATH or postgres://… (default: GATEHOUSE_STORE from the environment or --config, else sqlite:gatehouse.db)")
    var store: String?

    /// Opens the store for the duration of `body`.
    func withStore<T: Sendable>(_ body: (SessionStore) async throws -> T) async throws -> T {
        let access = try await StoreAccess.load(file: config, storeOverride: store)
        return try await access.withStore(logger: Logger(label: "gatehouse.store"), body)
    }
}
