import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Logging
import Testing

/// Keys shared by the tests (fresh for each test run).
enum TestKeys {
    static let first = KeyRing.generateKey()
    static let second = KeyRing.generateKey()
    static let unrelated = KeyRing.generateKey()
}

/// One test's driver and clock. `isolated` is false for the shared PostgreSQL database, where
/// other tests' rows may exist: assertions on global counts are then lower bounds.
struct StoreFixture: Sendable {
    let driver: any StorageDriver
    let clock: ManualWallClock
    let isolated: Bool

    init(driver: any StorageDriver, isolated: Bool) {
        self.driver = driver
        self.clock = ManualWallClock()
        self.isolated = isolated
    }

    /// A store over this fixture's driver and clock.
    func store(
        keys: [String] = [TestKeys.first], configuration: SessionStore.Configuration = .init(),
        driver: (any StorageDriver)? = nil
    ) throws -> SessionStore {
        SessionStore(
            driver: driver ?? self.driver, keyRing: try KeyRing(base64Keys: keys), configuration: configuration,
            clock: clock.wallClock, logger: Self.quietLogger)
    }

    /// The negative cases log on purpose (unreadable sessions); keep the test output readable.
    static let quietLogger: Logger = {
        var logger = Logger(label: "gatehouse.store.tests")
        logger.logLevel = .critical
        return logger
    }()

    /// An identity with a subject no other test uses.
    func identity(subject: String = "user-\(UUID().uuidString)", sid: String? = nil) -> Identity {
        Identity(
            issuer: "https://idp.example.test", subject: subject, email: "\(subject)@example.test",
            emailVerified: true, name: "Test User", preferredUsername: "tester", groups: ["staff", "ops"],
            sessionID: sid)
    }

    func tokens(_ label: String = UUID().uuidString, raw: [String: JSONValue] = [:]) -> TokenSet {
        TokenSet(
            accessToken: "access-\(label)", tokenType: "Bearer",
            expiresAt: clock.now.addingTimeInterval(300).rounded, refreshToken: "refresh-\(label)",
            idToken: "id-\(label)", scope: ["openid", "email"], raw: raw)
    }

    func pending(state: String = UUID().uuidString + UUID().uuidString) -> PendingAuthorization {
        PendingAuthorization(
            state: state, nonce: "nonce-\(UUID().uuidString)", codeVerifier: "verifier-\(UUID().uuidString)",
            redirectURI: "https://app.example.test/oauth2/callback", createdAt: clock.now)
    }

    /// Rewrites a row's sealed tokens behind the store's back.
    func replaceSealedTokens(of hash: SessionHash, with sealed: [UInt8]) async throws {
        let row = try #require(try await driver.session(hash))
        _ = try #require(
            try await driver.updateTokens(
                hash, expectedVersion: row.version, sealedTokens: sealed, absoluteExpiresAt: row.absoluteExpiresAt))
    }
}

extension Date {
    /// Whole seconds, so values survive every backend unchanged.
    var rounded: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}

/// The backends that need no server.
enum LocalBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case sqlite

    var testDescription: String { rawValue }

    func withFixture(_ body: (StoreFixture) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(StoreFixture(driver: MemoryDriver(), isolated: true))
        case .sqlite:
            try await TemporaryDirectory.with { directory in
                let driver = try SQLiteDriver(path: directory.appendingPathComponent("store.sqlite").path)
                try await driver.migrate()
                try await body(StoreFixture(driver: driver, isolated: true))
            }
        }
    }
}

enum TemporaryDirectory {
    static func with<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }
}
