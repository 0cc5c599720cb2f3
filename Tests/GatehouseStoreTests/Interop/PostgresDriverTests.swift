import Foundation
import Logging
import PostgresNIO
import Testing

@testable import GatehouseStore
@testable import GatehousePostgres

/// The PostgreSQL driver against a real server (`scripts/test.sh` starts one and exports
/// `GATEHOUSE_TEST_POSTGRES_URL`). Without that variable every test here fails: a missing
/// database must never look like a pass. Each test works in its own schema.
@Suite struct PostgresDriverTests {
    static let logger = Logger(label: "PostgresDriverTests")

    /// The test server's URL; records a failure and throws when it is not configured.
    static func databaseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"], !url.isEmpty else {
            Issue.record("GATEHOUSE_TEST_POSTGRES_URL is not set: run `bash scripts/test.sh` (it starts PostgreSQL)")
            throw StoreError.invalidConfiguration
        }
        return url
    }

    /// Options for a fresh schema of this test's own.
    static func isolated(_ configure: (inout PostgresDriver.Options) -> Void = { _ in }) -> PostgresDriver.Options {
        var options = PostgresDriver.Options()
        options.schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        configure(&options)
        return options
    }

    static func withDriver<T: Sendable>(
        _ options: PostgresDriver.Options = isolated(), _ body: (PostgresDriver) async throws -> T
    ) async throws -> T {
        try await PostgresDriver.withDriver(url: databaseURL(), logger: logger, options: options, body)
    }

    static func randomHash() -> SessionHash { SessionID.generate().hash }

    static func session(
        subject: String = "alice", sid: String? = "sid-1", createdAt: Int64 = 1_000, idle: Int64 = 5_000,
        absolute: Int64 = 10_000
    ) -> SessionRow {
        SessionRow(
            idHash: randomHash(), subject: subject, idpSessionID: sid, provider: "oidc", sealed: [1, 2, 3, 0, 255],
            legacyClaims: Array(#"{"sub":"x"}"#.utf8), createdAt: createdAt, lastSeenAt: createdAt, idleExpiresAt: idle,
            absoluteExpiresAt: absolute, version: 0)
    }

    static func pending(expiresAt: Int64 = 10_000) -> PendingRow {
        PendingRow(
            stateHash: randomHash(), bindingHash: randomHash(), nonce: "n-\(UUID())", sealedVerifier: [9, 8, 7],
            returnPath: "/app?x=1", provider: "oidc", createdAt: 1_000, expiresAt: expiresAt)
    }

    // MARK: - Configuration

    @Test func urlParsing() throws {
        _ = try Self.databaseURL()
        let plain = try PostgresURL("postgres://gh:s%40cret@127.0.0.1:55432/gatehouse_test")
        #expect(plain.host == "127.0.0.1" && plain.port == 55432 && plain.username == "gh")
        #expect(plain.password == "s@cret" && plain.database == "gatehouse_test" && plain.tls == .disable)
        #expect(try PostgresURL("postgresql://u@db.example.com/x").tls == .require)
        #expect(try PostgresURL("postgres://u@db.example.com/x?sslmode=disable").tls == .disable)
        #expect(try PostgresURL("postgres://u@localhost/x?sslmode=require").tls == .require)
        #expect(try PostgresURL("postgres://u@[::1]:6000").host == "::1")
        #expect(try PostgresURL("postgres://u@[::1]:6000").database == nil)
        for bad in [
            "mysql://u:topsecret@h/db", "postgres://:topsecret@h/db", "postgres://u:topsecret@/db",
            "postgres://u:topsecret@h/db?sslmode=allow", "postgres://u:topsecret@h/db?foo=1",
            "postgres://u:topsecret@h/a/b", "postgres://u:topsecret@h:0/db", "not a url at all topsecret",
        ] {
            do {
                _ = try PostgresURL(bad)
                Issue.record("accepted \(bad)")
            } catch let error as StoreError {
                #expect(error == .invalidConfiguration)
                #expect(!error.description.contains("topsecret"), "the password leaked: \(error)")
            }
        }
        var options = PostgresDriver.Options()
        options.schema = "bad; drop table x"
        #expect(throws: StoreError.invalidConfiguration) {
            try PostgresDriver(url: "postgres://u@127.0.0.1/x", logger: Self.logger, options: options)
        }
    }

    // MARK: - Schema

    @Test func migrationsAreIdempotentAndSafeConcurrently() async throws {
        let options = Self.isolated()
        let url = try Self.databaseURL()
        // Three drivers (separate pools, as separate gateways) migrate the same new schema at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { try await PostgresDriver.withDriver(url: url, logger: Self.logger, options: options) { _ in } }
            }
            try await group.waitForAll()
        }
        try await Self.withDriver(options) { driver in
            try await driver.migrate()
            try await driver.migrate()
            let versions = try await driver.rows("test", "SELECT version FROM gatehouse_schema_migrations ORDER BY version")
                .map { try $0.decode(Int32.self) }
            #expect(versions == PostgresDriver.migrations.map(\.version))
            let tables = try await driver.rows(
                "test",
                """
                SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()
                AND table_name IN ('gatehouse_sessions', 'gatehouse_pending', 'gatehouse_schema_migrations')
                """)
            #expect(try PostgresDriver.singleInt(tables) == 3)
        }
    }

    // MARK: - Sessions

    @Test func sessionLifecycle() async throws {
        try await Self.withDriver { driver in
            let row = Self.session()
            try await driver.insertSession(row)
            #expect(try await driver.session(row.idHash) == row)
            #expect(try await driver.session(Self.randomHash()) == nil)
            await #expect(throws: StoreError.conflict) { try await driver.insertSession(row) }

            // Compare and swap: the right version wins once, a stale one gets nil.
            let updated = try await driver.updateTokens(
                row.idHash, expectedVersion: 0, sealed: [4, 5], absoluteExpiresAt: 9_000)
            #expect(updated?.version == 1 && updated?.sealed == [4, 5] && updated?.absoluteExpiresAt == 9_000)
            #expect(updated?.legacyClaims == nil, "a write of the sealed session clears legacy claims")
            #expect(try await driver.updateTokens(row.idHash, expectedVersion: 0, sealed: [6], absoluteExpiresAt: 9_000) == nil)
            #expect(try await driver.updateTokens(Self.randomHash(), expectedVersion: 0, sealed: [6], absoluteExpiresAt: 1) == nil)
            #expect(try await driver.session(row.idHash)?.sealed == [4, 5])

            // Touch: idle moves, capped at absolute; version unchanged.
            try await driver.touchSession(row.idHash, lastSeenAt: 2_000, idleExpiresAt: 7_000)
            var stored = try await driver.session(row.idHash)
            #expect(stored?.lastSeenAt == 2_000 && stored?.idleExpiresAt == 7_000 && stored?.version == 1)
            try await driver.touchSession(row.idHash, lastSeenAt: 3_000, idleExpiresAt: 99_000)
            stored = try await driver.session(row.idHash)
            #expect(stored?.idleExpiresAt == 9_000)
            try await driver.touchSession(Self.randomHash(), lastSeenAt: 1, idleExpiresAt: 2)

            #expect(try await driver.deleteSession(row.idHash))
            #expect(try await driver.deleteSession(row.idHash) == false)
            #expect(try await driver.session(row.idHash) == nil)
        }
    }

    @Test func bulkDeletesListAndCount() async throws {
        try await Self.withDriver { driver in
            let alice1 = Self.session(subject: "alice", sid: "s1", createdAt: 1_000)
            let alice2 = Self.session(subject: "alice", sid: "s2", createdAt: 2_000)
            let bob = Self.session(subject: "bob", sid: "s2", createdAt: 3_000)
            let carol = Self.session(subject: "carol", sid: nil, createdAt: 4_000, idle: 1_500)
            for row in [alice1, alice2, bob, carol] { try await driver.insertSession(row) }

            #expect(try await driver.listSessions(limit: 10).map(\.idHash) == [carol, bob, alice2, alice1].map(\.idHash))
            #expect(try await driver.listSessions(limit: 2).map(\.idHash) == [carol, bob].map(\.idHash))
            #expect(try await driver.countSessions(activeAt: 1_000) == 4)
            #expect(try await driver.countSessions(activeAt: 2_000) == 3)
            #expect(try await driver.countSessions(activeAt: 10_000) == 0)

            #expect(Set(try await driver.deleteSessions(subject: "alice", provider: nil)) == [alice1.idHash, alice2.idHash])
            #expect(try await driver.deleteSessions(subject: "alice", provider: nil) == [])
            #expect(try await driver.deleteSessions(idpSessionID: "s2", provider: nil) == [bob.idHash])
            #expect(try await driver.deleteAllSessions() == 1)
            #expect(try await driver.listSessions(limit: 10) == [])
        }
    }

    // MARK: - Pending authorizations

    @Test func pendingIsSingleUseAndExpires() async throws {
        try await Self.withDriver { driver in
            let row = Self.pending(expiresAt: 5_000)
            try await driver.insertPending(row)
            await #expect(throws: StoreError.conflict) { try await driver.insertPending(row) }
            #expect(try await driver.takePending(row.stateHash, now: 4_999) == row)
            #expect(try await driver.takePending(row.stateHash, now: 4_999) == nil)

            let expired = Self.pending(expiresAt: 5_000)
            try await driver.insertPending(expired)
            #expect(try await driver.takePending(expired.stateHash, now: 5_000) == nil)
            try await driver.insertPending(expired)  // it was deleted, so the key is free again
        }
    }

    @Test func concurrentTakePendingHasExactlyOneWinner() async throws {
        try await Self.withDriver { driver in
            let row = Self.pending()
            try await driver.insertPending(row)
            let winners = try await withThrowingTaskGroup(of: PendingRow?.self, returning: [PendingRow].self) { group in
                for _ in 0..<100 {
                    group.addTask { try await driver.takePending(row.stateHash, now: 2_000) }
                }
                return try await group.reduce(into: []) { if let taken = $1 { $0.append(taken) } }
            }
            #expect(winners == [row])
        }
    }

    @Test func purgeIsBounded() async throws {
        try await Self.withDriver { driver in
            for _ in 0..<5 { try await driver.insertSession(Self.session(idle: 1_500)) }
            let live = Self.session()
            try await driver.insertSession(live)
            for _ in 0..<4 { try await driver.insertPending(Self.pending(expiresAt: 1_500)) }
            let livePending = Self.pending()
            try await driver.insertPending(livePending)

            #expect(try await driver.purgeExpired(now: 2_000, limit: 3) == 3)
            #expect(try await driver.purgeExpired(now: 2_000, limit: 3) == 3)
            #expect(try await driver.purgeExpired(now: 2_000, limit: 100) == 3)
            #expect(try await driver.purgeExpired(now: 2_000, limit: 100) == 0)
            #expect(try await driver.session(live.idHash) == live)
            #expect(try await driver.takePending(livePending.stateHash, now: 2_000) == livePending)
        }
    }

    // MARK: - Session locks

    @Test func sessionLockExcludesAcrossPools() async throws {
        let options = Self.isolated()
        let url = try Self.databaseURL()
        let hash = Self.randomHash()
        let recorder = LockRecorder()
        // Two drivers with separate pools stand for two gateway processes.
        try await PostgresDriver.withDriver(url: url, logger: Self.logger, options: options) { first in
            try await PostgresDriver.withDriver(url: url, logger: Self.logger, options: options) { second in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, driver) in [first, second, first, second].enumerated() {
                        group.addTask {
                            try await driver.withSessionLock(hash) {
                                await recorder.record("start \(index)")
                                try await Task.sleep(for: .milliseconds(150))
                                await recorder.record("end \(index)")
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
        let events = await recorder.events
        #expect(events.count == 8)
        // Strictly alternating start/end of the same holder: no two bodies overlapped.
        for pair in stride(from: 0, to: events.count, by: 2) {
            let start = events[pair], end = events[pair + 1]
            #expect(start.hasPrefix("start ") && end == "end " + start.dropFirst("start ".count), "\(events)")
        }
    }

    @Test func sessionLockWaitHasADeadlineAndErrorsReleaseTheLock() async throws {
        let options = Self.isolated { $0.lockTimeout = .milliseconds(300) }
        try await Self.withDriver(options) { driver in
            let hash = Self.randomHash()
            let (held, holding) = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await driver.withSessionLock(hash) {
                        holding.yield()
                        try await Task.sleep(for: .seconds(6))
                    }
                }
                for await _ in held { break }
                let started = ContinuousClock.now
                await #expect(throws: StoreError.timeout) { try await driver.withSessionLock(hash) {} }
                // Bounds are loose (CI runs many suites at once); waiting for the holder would take 6 s.
                #expect(ContinuousClock.now - started < .seconds(4))
                // Another session's lock is independent.
                #expect(try await driver.withSessionLock(Self.randomHash()) { 7 } == 7)
                try await group.waitForAll()
            }

            // A throwing body hands its own error back and releases the lock.
            struct BodyFailed: Error {}
            await #expect(throws: BodyFailed.self) { try await driver.withSessionLock(hash) { throw BodyFailed() } }
            let started = ContinuousClock.now
            #expect(try await driver.withSessionLock(hash) { "again" } == "again")
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    // MARK: - Deadlines

    @Test func unreachableServerTimesOutInsteadOfHanging() async throws {
        _ = try Self.databaseURL()
        var options = PostgresDriver.Options()
        options.queryTimeout = .seconds(1)
        options.migrationTimeout = .seconds(1)
        options.connectTimeout = .milliseconds(500)
        let closedPort = "postgres://gatehouse:pw@127.0.0.1:1/gatehouse_test"
        let started = ContinuousClock.now
        await #expect(throws: StoreError.timeout) {
            try await PostgresDriver.withDriver(url: closedPort, logger: Self.logger, options: options) { _ in }
        }
        // Loose bound: the point is a deadline instead of a hang (the defaults are 60 s); a
        // clean-clone CI run under full parallel load once took 10.3 s here.
        #expect(ContinuousClock.now - started < .seconds(30))

        let driver = try PostgresDriver(url: closedPort, logger: Self.logger, options: options)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await driver.run() }
            let queryStarted = ContinuousClock.now
            await #expect(throws: StoreError.timeout) { try await driver.session(Self.randomHash()) }
            await #expect(throws: StoreError.timeout) { try await driver.withSessionLock(Self.randomHash()) {} }
            #expect(ContinuousClock.now - queryStarted < .seconds(30))
            group.cancelAll()
        }
    }

    @Test(arguments: [true, false])
    func slowStatementTimesOut(serverSide: Bool) async throws {
        let options = Self.isolated {
            $0.queryTimeout = .milliseconds(500)
            $0.sendsStatementTimeout = serverSide
        }
        try await Self.withDriver(options) { driver in
            let started = ContinuousClock.now
            await #expect(throws: StoreError.timeout) { try await driver.rows("sleep", "SELECT pg_sleep(10)") }
            // Before the statement would have ended by itself, with room for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(9))
            // The pool recovers (a closed connection is replaced).
            let one = try await driver.rows("test", "SELECT 1::bigint")
            #expect(try PostgresDriver.singleInt(one) == 1)
        }
    }
}

/// Events in the order they happened, from any task.
private actor LockRecorder {
    private(set) var events: [String] = []

    func record(_ event: String) { events.append(event) }
}
