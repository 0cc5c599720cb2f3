import Foundation
import GatehouseOAuth
import GatehouseStore
import GatehouseTestSupport
import Testing
@testable import GatehouseSQLite

/// Someone who can write to the gateway's SQLite file but has no key cannot make the upstream
/// see another user: bob signs in through the gateway, his row is rewritten to say alice, and
/// the upstream never sees alice. Each step runs a fresh gateway over the same file and key, so
/// no session cache hides a change.
@Suite("Stored identity tampering")
struct StoredIdentityTamperTests {
    @Test func rewritingBobsRowToAliceNeverReachesTheUpstreamAsAlice() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-tamper-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gatehouse.db").path
        let environment = ["GATEHOUSE_STORE": "sqlite:" + path, "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey()]

        // Sign in as bob and as alice; the upstream sees each as themselves.
        var bobCookies: [String: String] = [:]
        var aliceCookies: [String: String] = [:]
        try await GatewayFixture.with(environment: environment) { fixture in
            let bob = fixture.browser()
            let bobLogin = try await bob.logIn(user: "bob", password: "bob-password-1")
            let alice = fixture.browser()
            let aliceLogin = try await alice.logIn()
            #expect(bobLogin.status == 302 && aliceLogin.status == 302)
            let seen = try await Self.forwardedUser(fixture, bob.cookies)
            #expect(seen != nil)
            bobCookies = bob.cookies
            aliceCookies = alice.cookies
        }
        let bobHash = try #require(bobCookies["__Host-gatehouse"].flatMap(SessionID.init(cookieValue:))).hash
        let aliceHash = try #require(aliceCookies["__Host-gatehouse"].flatMap(SessionID.init(cookieValue:))).hash
        let driver = try SQLiteDriver(path: path)
        let bobRow = try #require(try await driver.session(bobHash))
        let aliceRow = try #require(try await driver.session(aliceHash))
        #expect(bobRow.subject != aliceRow.subject)
        let aliceClaims = Identity(
            issuer: try DOT.issuer(), subject: aliceRow.subject, email: "alice@example.com", emailVerified: true,
            preferredUsername: "alice", groups: ["staff", "admins"])

        // Each rewrite an attacker with write access could make: served to nobody as alice.
        var claimsRewritten = bobRow
        claimsRewritten.subject = aliceRow.subject
        claimsRewritten.legacyClaims = Array(try JSONEncoder().encode(aliceClaims))
        var aliceRowCopied = aliceRow
        aliceRowCopied.idHash = bobHash
        var sealedSwapped = bobRow
        sealedSwapped.sealed = aliceRow.sealed
        for (label, forged) in [
            ("alice's claims and subject", claimsRewritten), ("alice's whole row", aliceRowCopied),
            ("alice's sealed session", sealedSwapped),
        ] {
            try await Self.replace(bobRow, with: forged, in: driver)
            try await GatewayFixture.with(environment: environment) { fixture in
                let reply = try await fixture.browser(cookies: bobCookies).send("GET", "/whoami")
                #expect(reply.status == 401, "\(label): \(reply.status)")
                #expect(!reply.body.contains(#"["X-Forwarded-User","\#(aliceRow.subject)"]"#), "\(label)")
                #expect(try await Self.forwardedUser(fixture, aliceCookies) == aliceRow.subject, "alice's own session is intact")
            }
        }

        // Written back, bob is bob again: the refusals were the rewrites, not the cookie.
        try await Self.replace(bobRow, with: bobRow, in: driver)
        try await GatewayFixture.with(environment: environment) { fixture in
            let seen = try await Self.forwardedUser(fixture, bobCookies)
            #expect(seen == bobRow.subject)
        }
    }

    /// `X-Forwarded-User` as the upstream saw it for a request with `cookies`, `nil` when the
    /// request did not reach it.
    static func forwardedUser(_ fixture: GatewayFixture, _ cookies: [String: String]) async throws -> String? {
        let reply = try await fixture.browser(cookies: cookies).send("GET", "/whoami")
        guard reply.status == 200 else { return nil }
        return try reply.echo().value("X-Forwarded-User")
    }

    /// Replaces bob's row with `forged` through SQL, as write access to the file allows.
    static func replace(_ original: SessionRow, with forged: SessionRow, in driver: SQLiteDriver) async throws {
        _ = try await driver.deleteSession(original.idHash)
        try await driver.insertSession(forged)
    }
}

extension GatewayFixture {
    /// A browser for this gateway holding `cookies` (from another gateway over the same store).
    func browser(cookies: [String: String]) -> GatewayBrowser {
        let browser = browser()
        browser.cookies = cookies
        return browser
    }
}
