import Foundation
import GatehouseTestSupport
import GatehouseOAuth
import GatehouseStore
import Testing
@testable import GatehouseSQLite

/// `gatehouse sessions …`, run as the built binary: they find the store the way `serve` does
/// (environment, else the `--config` YAML file), and refuse a SQLite path that holds no store
/// instead of creating an empty one and reporting that nothing was there.
@Suite("gatehouse sessions")
struct AdminCommandTests {
    /// Runs `gatehouse ARGUMENTS` with exactly `environment` (plus `PATH`); status and output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try GatehouseCommand.executable()
        process.arguments = arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try ProcessLaunch.start(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func sessionsCommandsUseTheStoreOfTheConfigFile() async throws {
        try await GatehouseCommand.withDirectory { directory in
            let key = GatewayFixture.randomKey()
            let database = directory.appendingPathComponent("sessions.db").path
            let driver = try SQLiteDriver(path: database)
            try await driver.migrate()
            let store = SessionStore(driver: driver, keyRing: try KeyRing(base64Keys: [key]))
            for subject in ["alice", "bob"] {
                _ = try await store.create(
                    identity: Identity(issuer: "https://idp.example", subject: subject, email: "\(subject)@example.com"),
                    provider: "oidc", tokens: TokenSet(accessToken: "access-\(subject)"))
            }
            let config = directory.appendingPathComponent("gatehouse.yaml")
            try "store: sqlite:\(database)\nencryption_keys: \(key)\n".write(to: config, atomically: true, encoding: .utf8)

            let (listStatus, list) = try await Self.run(["sessions", "list", "--config", config.path])
            #expect(listStatus == 0, "\(list)")
            #expect(list.contains("alice@example.com") && list.contains("bob@example.com"), "\(list)")
            #expect(!list.contains("access-alice"))

            let (revokeStatus, revoke) = try await Self.run(["sessions", "revoke", "--subject", "alice", "--config", config.path])
            #expect(revokeStatus == 0, "\(revoke)")
            #expect(revoke.contains("revoked 1 session"))
            // The environment wins over the file, as for `serve`.
            let (_, listed) = try await Self.run(
                ["sessions", "list", "--config", config.path],
                environment: ["GATEHOUSE_STORE": "sqlite:\(database)", "GATEHOUSE_ENCRYPTION_KEYS": key])
            #expect(!listed.contains("alice@example.com") && listed.contains("bob@example.com"), "\(listed)")
        }
    }

    @Test func aSQLitePathWithoutAStoreIsAnError() async throws {
        try await GatehouseCommand.withDirectory { directory in
            let missing = directory.appendingPathComponent("nowhere.db").path
            let (status, output) = try await Self.run(
                ["sessions", "revoke", "--all"],
                environment: ["GATEHOUSE_STORE": "sqlite:\(missing)", "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey()])
            #expect(status != 0)
            #expect(output.contains("GATEHOUSE_STORE") && output.contains("no SQLite store"), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: missing))
        }
    }
}
