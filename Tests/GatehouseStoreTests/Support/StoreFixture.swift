import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Logging
import Testing
@testable import GatehouseSQLite

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
        driver: (any StorageDriver)? = nil, logger: Logger = Self.quietLogger
    ) throws -> SessionStore {
        SessionStore(
            driver: driver ?? self.driver, keyRing: try KeyRing(base64Keys: keys), configuration: configuration,
            clock: clock.wallClock, logger: logger)
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

    /// Rewrites a row's sealed session behind the store's back.
    func replaceSealedTokens(of hash: SessionHash, with sealed: [UInt8]) async throws {
        try await overwrite(hash, .sealed(sealed))
    }

    /// Re-seals a row's session with other tokens (what another instance's refresh writes).
    func resealTokens(of hash: SessionHash, with tokens: TokenSet, store: SessionStore) async throws {
        let row = try #require(try await driver.session(hash))
        let (payload, _) = try store.openPayload(row)
        _ = try #require(
            try await driver.updateTokens(
                hash, expectedVersion: row.version, sealed: try store.seal(payload, tokens: tokens, for: hash),
                absoluteExpiresAt: row.absoluteExpiresAt))
    }

    /// Writes columns of a session row directly, as someone with write access to the database
    /// and no key would: SQL for SQLite and PostgreSQL, the raw row for the memory driver.
    func overwrite(_ hash: SessionHash, _ changes: RowChange...) async throws {
        try await overwrite(hash, changes)
    }

    func overwrite(_ hash: SessionHash, _ changes: [RowChange]) async throws {
        for change in changes {
            try await RowChange.apply(change, to: hash, in: driver)
        }
    }

    /// A row in the form written before schema 2 — the identity as clear JSON, the token set
    /// sealed alone for the legacy purpose — inserted through the driver.
    func insertLegacySession(
        store: SessionStore, identity: Identity, tokens: TokenSet, claims: Identity? = nil, version1: Bool = false,
        createdAt: Date? = nil, absoluteExpiresAt: Date? = nil
    ) async throws -> SessionID {
        let id = SessionID.generate()
        let plaintext = version1 ? Array(try JSONEncoder().encode(tokens)) : try TokenSetFormat.encode(tokens)
        let created = (createdAt ?? clock.now).storeMilliseconds
        let stated = claims ?? identity
        try await driver.insertSession(
            SessionRow(
                idHash: id.hash, subject: stated.subject, idpSessionID: stated.sessionID, provider: "oidc",
                sealed: try store.keyRing.seal(plaintext, purpose: .legacySessionTokens, boundTo: id.hash),
                legacyClaims: Array(try JSONEncoder().encode(stated)), createdAt: created, lastSeenAt: created,
                idleExpiresAt: created + 8 * 3_600_000,
                absoluteExpiresAt: absoluteExpiresAt?.storeMilliseconds ?? created + 7 * 86_400_000, version: 1))
        return id
    }

    /// A token set whose ID token states `identity` (unsigned: the store never verifies a
    /// signature; the sealing authenticates what it keeps). `claims` are added or replace.
    func tokens(idTokenOf identity: Identity, issuedAt: Date? = nil, claims extra: [String: JSONValue] = [:]) -> TokenSet {
        var claims: [String: JSONValue] = [
            "iss": .string(identity.issuer), "sub": .string(identity.subject), "aud": .string("gatehouse"),
            "iat": .number((issuedAt ?? clock.now).timeIntervalSince1970.rounded(.down)),
            "exp": .number(clock.now.timeIntervalSince1970.rounded(.down) + 300),
        ]
        if let sid = identity.sessionID { claims["sid"] = .string(sid) }
        if let email = identity.email { claims["email"] = .string(email) }
        if let verified = identity.emailVerified { claims["email_verified"] = .bool(verified) }
        if let name = identity.name { claims["name"] = .string(name) }
        if let username = identity.preferredUsername { claims["preferred_username"] = .string(username) }
        if !identity.groups.isEmpty { claims["groups"] = .array(identity.groups.map(JSONValue.string)) }
        claims.merge(extra) { $1 }
        var tokens = self.tokens()
        tokens.idToken = Self.unsignedJWT(claims)
        return tokens
    }

    static func unsignedJWT(_ claims: [String: JSONValue]) -> String {
        func part(_ bytes: Data) -> String {
            bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let payload = (try? JSONEncoder().encode(claims)) ?? Data()
        return part(Data(#"{"alg":"RS256","kid":"k1"}"#.utf8)) + "." + part(payload) + ".c2lnbmF0dXJl"
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
