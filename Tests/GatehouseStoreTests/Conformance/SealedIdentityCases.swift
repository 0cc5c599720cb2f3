import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

/// Write access to the database without the key cannot change who a session belongs to or
/// for how long: every case writes to the rows directly (SQL for SQLite and PostgreSQL) and
/// checks the session is refused — no session for the request, logged without a secret — and
/// that nothing else stored changed.
enum SealedIdentityCases {
    /// Each lookup column changed on its own (bob's subject to alice's, a later deadline…):
    /// refused, logged, kept; written back, served again; alice's session untouched.
    static func tamperedLookupColumnsRefused(_ f: StoreFixture) async throws {
        let logs = CapturedLogs()
        let store = try f.store()
        let alice = f.identity(subject: "alice-\(UUID().uuidString)", sid: "sid-a-\(UUID().uuidString)")
        let bob = f.identity(subject: "bob-\(UUID().uuidString)", sid: "sid-b-\(UUID().uuidString)")
        let aliceTokens = f.tokens("alice")
        let (aliceID, _) = try await store.create(identity: alice, provider: "oidc", tokens: aliceTokens)
        let (bobID, _) = try await store.create(identity: bob, provider: "oidc", tokens: f.tokens("bob"))
        let original = try #require(try await f.driver.session(bobID.hash))
        let aliceRow = try #require(try await f.driver.session(aliceID.hash))

        let changes: [(String, RowChange)] = [
            ("subject column set to alice's", .subject(alice.subject)),
            ("IdP session column set to alice's", .idpSessionID(alice.sessionID)),
            ("IdP session column cleared", .idpSessionID(nil)),
            ("provider column changed", .provider("another-provider")),
            ("created_at moved later", .createdAt(original.createdAt + 86_400_000)),
            ("absolute deadline extended", .absoluteExpiresAt(original.absoluteExpiresAt + 30 * 86_400_000)),
            ("alice's claims as legacy clear claims", .legacyClaims(Array(try JSONEncoder().encode(alice)))),
        ]
        for (label, change) in changes {
            try await f.overwrite(bobID.hash, change)
            let fresh = try f.store(logger: logs.logger)
            #expect(try await fresh.load(bobID) == nil, "\(label)")
            #expect(try await fresh.loadWithTokenSet(hash: bobID.hash) == nil, "\(label)")
            #expect(try await f.driver.session(bobID.hash) != nil, "kept for the operator: \(label)")
            try await f.overwrite(bobID.hash, RowChange.all(of: original))
            #expect(try await f.store().load(bobID)?.identity == bob, "written back, served again: \(label)")
        }
        #expect(try await f.store().load(aliceID)?.identity == alice)
        #expect(try await f.driver.session(aliceID.hash) == aliceRow, "nothing else stored changed")

        let refusals = logs.all.filter { $0.contains("session refused") }
        #expect(refusals.count == 2 * changes.count, "\(logs.all)")
        #expect(refusals.contains { $0.contains("error=tampered") && $0.contains("the subject column") })
        #expect(refusals.contains { $0.contains("the absolute_expires_at column") })
        let secrets = [
            alice.subject, bob.subject, alice.email ?? "-", bob.email ?? "-", alice.sessionID ?? "-", bob.sessionID ?? "-",
            aliceTokens.accessToken, "refresh-", aliceID.value, bobID.value, bobID.hash.hex,
        ]
        for line in logs.all {
            for secret in secrets { #expect(!line.contains(secret), "\(line)") }
        }
    }

    /// The sealed column moved between two sessions' rows — alone, or with every other column
    /// so that the clear copies agree with it — opens in neither: it is bound to its row's id
    /// hash. Written back, both are served again.
    static func sealedSessionSwappedBetweenRows(_ f: StoreFixture) async throws {
        let store = try f.store()
        let alice = f.identity(subject: "alice-\(UUID().uuidString)")
        let bob = f.identity(subject: "bob-\(UUID().uuidString)")
        let (aliceID, _) = try await store.create(identity: alice, provider: "oidc", tokens: f.tokens())
        let (bobID, _) = try await store.create(identity: bob, provider: "oidc", tokens: f.tokens())
        let aliceRow = try #require(try await f.driver.session(aliceID.hash))
        let bobRow = try #require(try await f.driver.session(bobID.hash))

        try await f.overwrite(bobID.hash, .sealed(aliceRow.sealed))
        #expect(try await f.store().load(bobID) == nil, "alice's sealed session in bob's row")
        #expect(try await f.store().load(aliceID)?.identity == alice)

        try await f.overwrite(bobID.hash, RowChange.all(of: aliceRow))
        try await f.overwrite(aliceID.hash, RowChange.all(of: bobRow))
        #expect(try await f.store().load(bobID) == nil, "alice's whole row content under bob's id")
        #expect(try await f.store().loadWithTokenSet(hash: bobID.hash) == nil)
        #expect(try await f.store().load(aliceID) == nil, "and bob's under alice's")

        try await f.overwrite(bobID.hash, RowChange.all(of: bobRow))
        try await f.overwrite(aliceID.hash, RowChange.all(of: aliceRow))
        #expect(try await f.store().load(bobID)?.identity == bob)
        #expect(try await f.store().load(aliceID)?.identity == alice)
    }

    /// The idle deadline slides with every request, so it is not sealed; but the sealed
    /// absolute deadline bounds it, whatever the idle column says.
    static func sealedAbsoluteDeadlineEnforced(_ f: StoreFixture) async throws {
        let store = try f.store(configuration: .init(idleTimeout: .seconds(600), maxAge: .seconds(3600)))
        let (id, created) = try await store.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        try await f.overwrite(id.hash, .idleExpiresAt(created.absoluteExpiresAt.storeMilliseconds + 86_400_000))
        f.clock.advance(by: .seconds(3599))
        let loaded = try #require(try await f.store().load(id))
        #expect(loaded.idleExpiresAt == created.absoluteExpiresAt)
        f.clock.advance(by: .seconds(1))
        #expect(try await f.store().load(id) == nil)
    }

    /// A row from before schema 2 whose sealed ID token states its claims is served on its
    /// first read and re-sealed then; a version 1 (JSON) token set too, with its absolute
    /// deadline capped at creation plus the maximum age.
    static func legacyRowVerifiedAndResealed(_ f: StoreFixture) async throws {
        let store = try f.store()
        let identity = f.identity(sid: "sid-\(UUID().uuidString)")
        let tokens = f.tokens(idTokenOf: identity)
        let id = try await f.insertLegacySession(store: store, identity: identity, tokens: tokens)
        let loaded = try #require(try await f.store().load(id))
        #expect(loaded.identity == identity)
        #expect(loaded.tokens == SessionTokens(tokens))
        let row = try #require(try await f.driver.session(id.hash))
        #expect(row.legacyClaims == nil, "re-sealed on its first read")
        #expect(row.version == 2)
        let (payload, tokenSet) = try store.openPayload(row)
        #expect(payload.identity == identity && payload.provider == "oidc" && tokenSet == tokens)
        #expect(try await f.store().loadWithTokenSet(hash: id.hash)?.tokenSet == tokens)

        let other = f.identity()
        let otherTokens = f.tokens(idTokenOf: other, claims: ["session_state": .string("abc")])
        let start = f.clock.now
        let version1 = try await f.insertLegacySession(
            store: store, identity: other, tokens: otherTokens, version1: true,
            absoluteExpiresAt: start.addingTimeInterval(30 * 86400))
        let full = try #require(try await f.store().loadWithTokenSet(hash: version1.hash))
        #expect(full.tokenSet == otherTokens)
        #expect(full.session.identity == other)
        #expect(full.session.absoluteExpiresAt == start.addingTimeInterval(7 * 86400), "capped at the maximum age")
        let upgraded = try #require(try await f.driver.session(version1.hash))
        #expect(upgraded.legacyClaims == nil)
        #expect(upgraded.absoluteExpiresAt == start.addingTimeInterval(7 * 86400).storeMilliseconds)
        // Sign-out of a legacy row verifies it the same way.
        let ending = try await f.insertLegacySession(store: store, identity: other, tokens: otherTokens)
        #expect(try await store.end(ending.hash)?.tokenSet == otherTokens)
    }

    /// Rows from before schema 2 whose claims their sealed ID token does not vouch for are
    /// refused, logged and left exactly as they are.
    static func legacyRowWithUnverifiableClaimsRefused(_ f: StoreFixture) async throws {
        let logs = CapturedLogs()
        let store = try f.store()
        let bob = f.identity(subject: "bob-\(UUID().uuidString)", sid: "sid-\(UUID().uuidString)")
        let alice = f.identity(subject: "alice-\(UUID().uuidString)")
        let bobTokens = f.tokens(idTokenOf: bob)
        var admin = bob
        admin.groups = ["admins"]
        var otherEmail = bob
        otherEmail.email = alice.email
        var thin = bob
        thin.groups = []
        thin.email = nil
        thin.emailVerified = nil
        let variants: [(String, SessionID)] = [
            ("groups changed", try await f.insertLegacySession(store: store, identity: bob, tokens: bobTokens, claims: admin)),
            ("alice's claims and subject", try await f.insertLegacySession(store: store, identity: bob, tokens: bobTokens, claims: alice)),
            ("email changed", try await f.insertLegacySession(store: store, identity: bob, tokens: bobTokens, claims: otherEmail)),
            (
                "created long after the ID token",
                try await f.insertLegacySession(
                    store: store, identity: bob, tokens: bobTokens, createdAt: f.clock.now.addingTimeInterval(3600))
            ),
            (
                "no ID token",
                try await f.insertLegacySession(
                    store: store, identity: bob, tokens: TokenSet(accessToken: "access-\(UUID().uuidString)"))
            ),
            (
                "claims from userinfo (thin ID token)",
                try await f.insertLegacySession(store: store, identity: bob, tokens: f.tokens(idTokenOf: thin))
            ),
        ]
        let subjectMoved = try await f.insertLegacySession(store: store, identity: bob, tokens: bobTokens)
        try await f.overwrite(subjectMoved.hash, .subject(alice.subject))
        for (label, id) in variants + [("subject column set to alice's", subjectMoved)] {
            let before = try #require(try await f.driver.session(id.hash))
            let fresh = try f.store(logger: logs.logger)
            #expect(try await fresh.load(id) == nil, "\(label)")
            #expect(try await fresh.loadWithTokenSet(hash: id.hash) == nil, "\(label)")
            #expect(try await f.driver.session(id.hash) == before, "left as it is: \(label)")
        }
        #expect(logs.all.filter { $0.contains("session refused") && $0.contains("error=legacy_unverified") }.count >= 10)
        for line in logs.all {
            for secret in [bob.subject, alice.subject, bob.email ?? "-", alice.email ?? "-", bobTokens.accessToken] {
                #expect(!line.contains(secret), "\(line)")
            }
        }
    }

    /// `keys reencrypt`: current rows move to the primary key; legacy rows are sealed when
    /// their ID token vouches for them, or when the operator trusts them; tampered rows and rows
    /// whose claims disagree with their columns are left alone and counted.
    static func reencryptSealsLegacyRowsAndSkipsTampered(_ f: StoreFixture) async throws {
        let old = try f.store(keys: [TestKeys.first])
        let rotated = try f.store(keys: [TestKeys.second, TestKeys.first])
        let vouched = f.identity()
        let unvouched = f.identity()
        let moved = f.identity()
        let (current, _) = try await old.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        let (tampered, _) = try await old.create(identity: f.identity(), provider: "oidc", tokens: f.tokens())
        try await f.overwrite(tampered.hash, .subject(vouched.subject))
        let vouchedID = try await f.insertLegacySession(store: old, identity: vouched, tokens: f.tokens(idTokenOf: vouched))
        let unvouchedID = try await f.insertLegacySession(store: old, identity: unvouched, tokens: f.tokens())
        let movedID = try await f.insertLegacySession(store: old, identity: moved, tokens: f.tokens())
        try await f.overwrite(movedID.hash, .subject("someone-else-\(UUID().uuidString)"))
        let tamperedRow = try #require(try await f.driver.session(tampered.hash))

        let report = try await rotated.reencryptAll()
        if f.isolated {
            #expect(report == .init(resealed: 1, upgraded: 1, skipped: 3))
        } else {
            #expect(report.resealed >= 1 && report.upgraded >= 1 && report.skipped >= 3)
        }
        let newKey = rotated.keyRing.primaryKeyID
        #expect(KeyRing.keyID(ofSealed: try #require(try await f.driver.session(current.hash)).sealed) == newKey)
        let upgraded = try #require(try await f.driver.session(vouchedID.hash))
        #expect(upgraded.legacyClaims == nil && KeyRing.keyID(ofSealed: upgraded.sealed) == newKey)
        #expect(try await f.store(keys: [TestKeys.second]).load(vouchedID)?.identity == vouched)
        #expect(try await rotated.load(unvouchedID) == nil, "not vouched for: still refused")
        #expect(try await f.driver.session(tampered.hash) == tamperedRow, "a tampered row is not laundered")

        let trusting = try await rotated.reencryptAll(trustingLegacyClaims: true)
        if f.isolated {
            #expect(trusting == .init(resealed: 0, upgraded: 1, skipped: 2))
        } else {
            #expect(trusting.upgraded >= 1 && trusting.skipped >= 2)
        }
        #expect(try await f.store(keys: [TestKeys.second]).load(unvouchedID)?.identity == unvouched)
        #expect(try await rotated.load(movedID) == nil, "claims that disagree with the subject column stay refused")
        #expect(try await rotated.load(tampered) == nil)
    }
}
