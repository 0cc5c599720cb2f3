import Foundation
import GatehouseOAuth
import GRDB
import Logging
import PostgresNIO
import Testing

@testable import GatehouseStore
@testable import GatehouseSQLite

/// A database of the schema before the identity was sealed (SQLite schema 1, PostgreSQL
/// schema 2: claims in clear) migrates in place: rows keep their data; a row whose sealed ID
/// token vouches for its claims is served and re-sealed on its first read; the others are
/// refused until `keys reencrypt --trust-legacy-claims`; new sessions work beside them.
@Suite struct LegacyMigrationTests {
    @Test func sqliteFromSchema1() async throws {
        try await TemporaryDirectory.with { directory in
            let driver = try SQLiteDriver(path: directory.appendingPathComponent("schema1.sqlite").path)
            try SQLiteDriver.migrator.migrate(driver.pool, upTo: SQLiteDriver.firstMigration)
            try await Self.checkMigration(
                StoreFixture(driver: driver, isolated: true),
                insertOldRow: { row in
                    try await driver.pool.write { db in
                        try db.execute(
                            sql: """
                                INSERT INTO sessions (id_hash, subject, idp_session_id, provider, claims, sealed_tokens,
                                    created_at, last_seen_at, idle_expires_at, absolute_expires_at, version)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                                """,
                            arguments: [
                                Data(row.idHash.bytes), row.subject, row.idpSessionID, row.provider,
                                Data(row.legacyClaims ?? []), Data(row.sealed), row.createdAt, row.lastSeenAt,
                                row.idleExpiresAt, row.absoluteExpiresAt, row.version,
                            ])
                    }
                },
                migrate: { try await driver.migrate() })
            let columns = try await driver.pool.read { db in try db.columns(in: "sessions").map(\.name) }
            #expect(columns.contains("sealed_session") && columns.contains("legacy_claims"))
            #expect(!columns.contains("claims") && !columns.contains("sealed_tokens"))
            let indexes = try await driver.pool.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions'")
            }
            #expect(
                Set(indexes).isSuperset(of: [
                    "sessions_subject", "sessions_idp_session_id", "sessions_idle_expires_at",
                    "sessions_absolute_expires_at", "sessions_created_at",
                ]))
        }
    }

    /// Inserts three rows the way the old code wrote them, migrates, and checks what is served.
    static func checkMigration(
        _ fixture: StoreFixture, insertOldRow: (SessionRow) async throws -> Void, migrate: () async throws -> Void
    ) async throws {
        let store = try fixture.store()
        func oldRow(_ identity: Identity, _ tokens: TokenSet, claims: Identity) throws -> SessionRow {
            let id = SessionID.generate()
            let now = fixture.clock.now.storeMilliseconds
            return SessionRow(
                idHash: id.hash, subject: claims.subject, idpSessionID: claims.sessionID, provider: "oidc",
                sealed: try store.keyRing.seal(
                    try TokenSetFormat.encode(tokens), purpose: .legacySessionTokens, boundTo: id.hash),
                legacyClaims: Array(try JSONEncoder().encode(claims)), createdAt: now, lastSeenAt: now,
                idleExpiresAt: now + 3_600_000, absoluteExpiresAt: now + 86_400_000, version: 1)
        }
        let vouched = fixture.identity(sid: "sid-\(UUID().uuidString)")
        let vouchedTokens = fixture.tokens(idTokenOf: vouched)
        var admin = vouched
        admin.groups = ["admins"]
        let thin = fixture.identity()
        let vouchedRow = try oldRow(vouched, vouchedTokens, claims: vouched)
        let forgedRow = try oldRow(vouched, vouchedTokens, claims: admin)
        let thinRow = try oldRow(thin, fixture.tokens(), claims: thin)
        for row in [vouchedRow, forgedRow, thinRow] { try await insertOldRow(row) }

        try await migrate()
        // Carried over as they were, but for the provider column: the one provider's id now.
        var forgedMigrated = forgedRow, thinMigrated = thinRow
        forgedMigrated.provider = "default"
        thinMigrated.provider = "default"
        #expect(try await fixture.driver.session(forgedRow.idHash) == forgedMigrated, "rows are carried over as they were")
        #expect(try await fixture.driver.session(thinRow.idHash) == thinMigrated)

        let loaded = try #require(try await fixture.store().load(hash: vouchedRow.idHash))
        #expect(loaded.identity == vouched)
        #expect(loaded.tokens == SessionTokens(vouchedTokens))
        #expect(try await fixture.driver.session(vouchedRow.idHash)?.legacyClaims == nil, "re-sealed on first read")
        #expect(try await fixture.store().load(hash: forgedRow.idHash) == nil, "claims its ID token does not state")
        #expect(try await fixture.store().load(hash: thinRow.idHash) == nil, "no ID token to vouch for it")
        #expect(try await store.reencryptAll() == .init(skipped: 2))
        #expect(try await store.reencryptAll(trustingLegacyClaims: true) == .init(upgraded: 2))
        #expect(try await fixture.store().load(hash: thinRow.idHash)?.identity == thin)

        let (newID, _) = try await store.create(identity: fixture.identity(), provider: "oidc", tokens: fixture.tokens())
        #expect(try await fixture.store().load(newID) != nil)
    }
}
