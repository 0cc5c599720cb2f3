import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing
@testable import GatehousePostgres

/// Two "instances" (stores over separate connection pools) on one PostgreSQL schema: a
/// deletion by one reaches the other's cache through LISTEN/NOTIFY, long before the cache
/// lifetime (10 minutes here) would.
@Suite struct PostgresDeletionNoticeTests {
    static let configuration = SessionStore.Configuration(cacheTTL: .seconds(600))

    static func identity(_ subject: String) -> Identity {
        Identity(
            issuer: "https://idp.example.test", subject: subject, email: nil, emailVerified: nil, name: nil,
            preferredUsername: nil, groups: [], sessionID: nil)
    }

    static func tokens() -> TokenSet {
        TokenSet(accessToken: "at-\(UUID())", tokenType: "Bearer", expiresAt: Date().addingTimeInterval(3600))
    }

    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func noticePayloads() throws {
        let hash = SessionID.generate().hash
        #expect(PostgresDriver.deletion(fromPayload: hash.hex) == .session(hash))
        #expect(PostgresDriver.deletion(fromPayload: hash.hex.uppercased()) == .session(hash))
        #expect(PostgresDriver.deletion(fromPayload: "*") == .many)
        for junk in ["", "xyz", String(hash.hex.dropLast()), "+" + String(hash.hex.dropFirst()), hash.hex + "00"] {
            #expect(PostgresDriver.deletion(fromPayload: junk) == .many, "\(junk)")
        }
    }
}
