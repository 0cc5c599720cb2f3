import Foundation
import GatehouseOAuth
import Testing

@testable import GatehouseStore
@testable import GatehouseSQLite

/// `gatehouse keys reencrypt`, run as the built binary: sessions move to the first key, and a
/// session stored before the identity was sealed (claims in clear, no ID token to vouch for
/// them) is left alone unless `--trust-legacy-claims` says to seal it as it stands.
@Suite("gatehouse keys reencrypt")
struct KeysReencryptCommandTests {
    @Test func reencryptsAndSealsLegacySessionsOnlyWhenTrusted() async throws {
        try await GatehouseCommand.withDirectory { directory in
            let oldKey = GatewayFixture.randomKey()
            let newKey = GatewayFixture.randomKey()
            let database = directory.appendingPathComponent("sessions.db").path
            let driver = try SQLiteDriver(path: database)
            try await driver.migrate()
            let oldStore = SessionStore(driver: driver, keyRing: try KeyRing(base64Keys: [oldKey]))
            let (current, _) = try await oldStore.create(
                identity: Identity(issuer: "https://idp.example", subject: "alice"), provider: "oidc",
                tokens: TokenSet(accessToken: "access-alice"))
            let legacy = SessionID.generate()
            let bob = Identity(issuer: "https://idp.example", subject: "bob", email: "bob@example.com")
            let now = Date().storeMilliseconds
            try await driver.insertSession(
                SessionRow(
                    idHash: legacy.hash, subject: "bob", idpSessionID: nil, provider: "github",
                    sealed: try oldStore.keyRing.seal(
                        try TokenSetFormat.encode(TokenSet(accessToken: "access-bob")), purpose: .legacySessionTokens,
                        boundTo: legacy.hash),
                    legacyClaims: Array(try JSONEncoder().encode(bob)), createdAt: now, lastSeenAt: now,
                    idleExpiresAt: now + 3_600_000, absoluteExpiresAt: now + 86_400_000, version: 1))
            let environment = ["GATEHOUSE_STORE": "sqlite:\(database)", "GATEHOUSE_ENCRYPTION_KEYS": "\(newKey),\(oldKey)"]

            let (status, output) = try await AdminCommandTests.run(["keys", "reencrypt"], environment: environment)
            #expect(status == 0, "\(output)")
            #expect(output.contains("re-encrypted 1 session\n"), "\(output)")
            #expect(output.contains("left 1 session as stored"), "\(output)")
            let newOnly = SessionStore(driver: driver, keyRing: try KeyRing(base64Keys: [newKey]))
            #expect(try await newOnly.load(current)?.identity.subject == "alice")
            #expect(try await newOnly.load(legacy) == nil, "nothing vouches for bob's clear claims")

            let (trustedStatus, trusted) = try await AdminCommandTests.run(
                ["keys", "reencrypt", "--trust-legacy-claims"], environment: environment)
            #expect(trustedStatus == 0, "\(trusted)")
            #expect(trusted.contains("re-encrypted 0 sessions") && trusted.contains("sealed 1 session from before schema 2"))
            #expect(!trusted.contains("left"), "\(trusted)")
            let loaded = try #require(try await newOnly.load(legacy))
            #expect(loaded.identity == bob && loaded.provider == "github")
        }
    }
}
