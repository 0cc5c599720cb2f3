import Foundation
import GRDB
import GatehouseOAuth
import PostgresNIO
import Testing

@testable import GatehouseStore
@testable import GatehouseSQLite
@testable import GatehousePostgres

/// Pending logins in the store: the binding is checked before anything is consumed, a browser
/// can give up one of its logins, live ones are counted and expired ones purged, on every
/// backend (PostgreSQL in a schema of its own, so counts are exact).
@Suite struct PendingLoginStoreTests {
    /// PostgreSQL joins with the interop tests (`GATEHOUSE_INTEROP_TESTS=1`, Package.swift),
    /// which have a server.
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite
        #if GATEHOUSE_INTEROP_TESTS
        case postgres
        #endif
        var testDescription: String { rawValue }

        func withFixture(_ body: (StoreFixture) async throws -> Void) async throws {
            switch self {
            case .memory: try await LocalBackend.memory.withFixture(body)
            case .sqlite: try await LocalBackend.sqlite.withFixture(body)
            #if GATEHOUSE_INTEROP_TESTS
            case .postgres:
                try await PostgresDriverTests.withDriver { driver in
                    try await driver.migrate()
                    try await body(StoreFixture(driver: driver, isolated: true))
                }
            #endif
            }
        }
    }

    /// DESIGN §1: a callback with another browser's binding (or none) consumes nothing; the
    /// browser that started the login can still finish it, once.
    @Test(arguments: Backend.allCases)
    func aWrongBindingConsumesNothing(backend: Backend) async throws {
        try await backend.withFixture { f in
            let store = try f.store()
            let pending = f.pending()
            try await store.savePending(pending, bindingValue: "right", returnPath: "/r", provider: "oidc")
            for wrong in ["wrong", "", nil] as [String?] {
                let outcome = try await store.consumePending(state: pending.state, bindingValue: wrong)
                guard case .bindingMismatch = outcome else {
                    Issue.record("\(String(describing: wrong)): \(outcome)")
                    return
                }
            }
            guard case .consumed(let stored) = try await store.consumePending(state: pending.state, bindingValue: "right")
            else {
                Issue.record("the bound browser could not finish its login")
                return
            }
            #expect(stored.pending == pending)
            #expect(stored.returnPath == "/r")
            guard case .unknown = try await store.consumePending(state: pending.state, bindingValue: "right") else {
                Issue.record("a login was used twice")
                return
            }
            guard case .unknown = try await store.consumePending(state: "never-issued", bindingValue: "right") else {
                Issue.record("an unknown state was not unknown")
                return
            }
        }
    }

    /// Of many concurrent callbacks with the right binding exactly one gets the login; those
    /// with a wrong one never take it.
    @Test(arguments: Backend.allCases)
    func exactlyOneBoundCallbackWins(backend: Backend) async throws {
        try await backend.withFixture { f in
            let store = try f.store()
            let pending = f.pending()
            try await store.savePending(pending, bindingValue: "right", returnPath: "/", provider: "oidc")
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        switch try await store.consumePending(
                            state: pending.state, bindingValue: index.isMultiple(of: 2) ? "right" : "wrong")
                        {
                        case .consumed: "consumed"
                        case .bindingMismatch: "mismatch"
                        case .unknown: "unknown"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.count { $0 == "consumed" } == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func anExpiredLoginIsUnknownEvenWithItsBinding(backend: Backend) async throws {
        try await backend.withFixture { f in
            let store = try f.store()
            let pending = f.pending()
            try await store.savePending(pending, bindingValue: "right", returnPath: "/", provider: "oidc")
            f.clock.advance(by: .seconds(601))
            guard case .unknown = try await store.consumePending(state: pending.state, bindingValue: "wrong") else {
                Issue.record("an expired login looked live")
                return
            }
            guard case .unknown = try await store.consumePending(state: pending.state, bindingValue: "right") else {
                Issue.record("an expired login was consumed")
                return
            }
        }
    }

    /// A browser gives up its oldest login by the state-hash prefix its cookie's name carries
    /// and the cookie's value; another binding or prefix deletes nothing.
    @Test(arguments: Backend.allCases)
    func aBrowserGivesUpOnlyItsOwnLogin(backend: Backend) async throws {
        try await backend.withFixture { f in
            let store = try f.store()
            let pending = f.pending()
            try await store.savePending(pending, bindingValue: "mine", returnPath: "/", provider: "oidc")
            let prefix = Array(SessionHash(of: pending.state).bytes.prefix(6))
            let otherPrefix = prefix.map { $0 ^ 0x80 }
            #expect(try await store.discardPending(stateHashPrefix: prefix, bindingValue: "someone-else") == false)
            #expect(try await store.discardPending(stateHashPrefix: otherPrefix, bindingValue: "mine") == false)
            #expect(try await store.pendingCount() == 1)
            #expect(try await store.discardPending(stateHashPrefix: prefix, bindingValue: "mine"))
            #expect(try await store.pendingCount() == 0)
            guard case .unknown = try await store.consumePending(state: pending.state, bindingValue: "mine") else {
                Issue.record("a given-up login could still be used")
                return
            }
        }
    }

    /// Only live logins count; expired ones are purged in bounded batches, sessions untouched.
    @Test(arguments: Backend.allCases)
    func liveLoginsCountAndExpiredOnesArePurged(backend: Backend) async throws {
        try await backend.withFixture { f in
            let store = try f.store()
            for _ in 0..<5 {
                try await store.savePending(f.pending(), bindingValue: "b", returnPath: "/", provider: "oidc")
            }
            let (id, _) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
            #expect(try await store.pendingCount() == 5)
            f.clock.advance(by: .seconds(601))
            let live = f.pending()
            try await store.savePending(live, bindingValue: "b", returnPath: "/", provider: "oidc")
            #expect(try await store.pendingCount() == 1, "expired logins no longer count")
            #expect(try await store.purgeExpiredPending(batchSize: 3) == 3)
            #expect(try await store.purgeExpiredPending(batchSize: 3) == 2)
            #expect(try await store.purgeExpiredPending(batchSize: 3) == 0)
            #expect(try await f.driver.session(id.hash) != nil, "sessions are not purged here")
            guard case .consumed = try await store.consumePending(state: live.state, bindingValue: "b") else {
                Issue.record("the live login was purged")
                return
            }
        }
    }

    /// Logins stored before the compact format (the verifier as JSON) are still read.
    @Test(arguments: Backend.allCases)
    func loginsInTheOldFormatStillOpen(backend: Backend) async throws {
        try await backend.withFixture { f in
            let store = try f.store()
            let pending = f.pending()
            let stateHash = SessionHash(of: pending.state)
            let json = Array(
                try JSONEncoder().encode(
                    ["codeVerifier": pending.codeVerifier, "redirectURI": pending.redirectURI]))
            try await f.driver.insertPending(
                PendingRow(
                    stateHash: stateHash, bindingHash: SessionHash(of: "b"), nonce: pending.nonce,
                    sealedVerifier: try store.keyRing.seal(json, purpose: .pendingVerifier, boundTo: stateHash),
                    returnPath: "/old", provider: "oidc", createdAt: pending.createdAt.storeMilliseconds,
                    expiresAt: f.clock.now.storeMilliseconds + 600_000))
            guard case .consumed(let stored) = try await store.consumePending(state: pending.state, bindingValue: "b")
            else {
                Issue.record("an old-format login could not be read")
                return
            }
            #expect(stored.pending == pending)
        }
    }

    @Test func compactSecretRoundTrips() throws {
        let secret = PendingSecret(codeVerifier: String(repeating: "v", count: 128), redirectURI: "https://a.example/cb")
        #expect(try PendingSecret(decoding: secret.encoded()) == secret)
        // Format 3: version, two length-prefixed strings (128 takes a two-byte length), flags.
        #expect(secret.encoded().count == 1 + (2 + 128) + (1 + 20) + 1)
        #expect(throws: (any Error).self) { try PendingSecret(decoding: [0x02, 200, 1, 2]) }
        #expect(throws: (any Error).self) { try PendingSecret(decoding: [0x03, 200, 1, 2]) }
        // Step-up and silent conditions travel sealed with it; format 2 still reads.
        let conditions = LoginConditions(acrValues: ["mfa", "pwd"], maxAge: 300, subject: "alice", silent: true)
        let stepUp = PendingSecret(codeVerifier: "v", redirectURI: "https://a.example/cb", conditions: conditions)
        #expect(try PendingSecret(decoding: stepUp.encoded()) == stepUp)
        // The login's DPoP key (RFC 9449 dpop_jkt) too, after the conditions.
        let bound = PendingSecret(codeVerifier: "v", redirectURI: "https://a.example/cb", conditions: conditions, dpopKey: DPoPKey())
        let reopened = try PendingSecret(decoding: bound.encoded())
        #expect(reopened == bound && reopened.dpopKey != nil)
        #expect(throws: (any Error).self) { try PendingSecret(decoding: bound.encoded().dropLast(1).map { $0 }) }
        let format2: [UInt8] = [0x02, 1] + Array("v".utf8) + Array("https://a.example/cb".utf8)
        #expect(try PendingSecret(decoding: format2) == PendingSecret(codeVerifier: "v", redirectURI: "https://a.example/cb"))
    }
}

/// What one pending login costs on disk, measured as `/oauth2/start` makes them (43-character
/// state, nonce and verifier, a short return path), table and indexes together.
/// Before the compact format: PostgreSQL 471 B, SQLite 441 B per login with a short path.
@Suite struct PendingStorageSizeTests {
    static let count = 2_000

    static func fill(_ store: SessionStore, returnPath: (Int) -> String) async throws {
        for index in 0..<count {
            let pending = PendingAuthorization(
                state: SessionID.generate().value, nonce: SessionID.generate().value,
                codeVerifier: SessionID.generate().value, redirectURI: "https://gatehouse.example.com/oauth2/callback",
                createdAt: Date())
            try await store.savePending(
                pending, bindingValue: AuthCookieValue.sample(), returnPath: returnPath(index), provider: "oidc")
        }
    }

    static func shortPath(_ index: Int) -> String { "/app/dashboard?tab=\(index)" }

    @Test func sqliteBytesPerPendingLogin() async throws {
        try await TemporaryDirectory.with { directory in
            let driver = try SQLiteDriver(path: directory.appendingPathComponent("size.sqlite").path)
            try await driver.migrate()
            let store = SessionStore(driver: driver, keyRing: try KeyRing(base64Keys: [TestKeys.first]))
            let pages = {
                try driver.pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    return try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                }
            }
            let before = try pages()
            try await Self.fill(store, returnPath: Self.shortPath)
            let perLogin = (try pages() - before) * 4096 / Self.count
            print("SQLite: \(perLogin) bytes per pending login (table and indexes)")
            #expect(perLogin <= 420)
        }
    }
}

/// A binding cookie value as the routes make them (start time, dot, 43 random characters).
enum AuthCookieValue {
    static func sample() -> String { "1700000000000." + SessionID.generate().value }
}
