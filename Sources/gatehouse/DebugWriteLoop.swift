import ArgumentParser
import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseSQLite
import GatehousePostgres

/// `gatehouse debug-write-loop --sqlite PATH` (hidden): creates sessions in an endless loop and
/// prints the id hash of each one after its insert has committed, one per line. The crash
/// test kills it with SIGKILL mid-loop and checks that every printed hash is in the file.
struct DebugWriteLoop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-write-loop",
        abstract: "Testing aid: write sessions to a SQLite store until killed.",
        shouldDisplay: false)

    @Option(name: .customLong("sqlite"), help: "The SQLite file to write to (created if missing).")
    var path: String

    func run() async throws {
        let driver = try SQLiteDriver(path: path)
        try await driver.migrate()
        let store = SessionStore(
            driver: driver, keyRing: try KeyRing(base64Keys: [KeyRing.generateKey()]),
            configuration: .init(cacheCapacity: 0))
        let output = FileHandle.standardOutput
        var counter = 0
        while true {
            counter += 1
            let identity = Identity(issuer: "https://debug.invalid", subject: "write-loop-\(counter)")
            let (_, session) = try await store.create(
                identity: identity, provider: "debug", tokens: TokenSet(accessToken: "debug-\(counter)"))
            // FileHandle writes go straight to the descriptor (no stdio buffer to lose).
            output.write(Data((session.idHash.hex + "\n").utf8))
        }
    }
}
