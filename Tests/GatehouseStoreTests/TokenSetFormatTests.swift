import Foundation
import GatehouseOAuth
@testable import GatehouseStore
import Testing

/// The sealed token-set plaintext (version 2, binary; version 1, JSON) and the cache's packed
/// sessions: exact round trips, and malformed input is an error, never a crash.
@Suite struct TokenSetFormatTests {
    static let expiry = Date(timeIntervalSinceReferenceDate: 786_123_456.789_012_3)

    /// Every combination of the optional fields, with non-ASCII text and a non-empty `raw`.
    static var tokenSets: [TokenSet] {
        (0..<16).map { (bits: Int) -> TokenSet in
            let key: DPoPKey? = bits % 2 == 1 ? try? DPoPKey(rawRepresentation: [UInt8](repeating: UInt8(bits), count: 32)) : nil
            return TokenSet(
                accessToken: "eyJ.access.é\(bits)", tokenType: bits % 2 == 0 ? "Bearer" : "DPoP",
                expiresAt: bits & 1 != 0 ? expiry : nil, refreshToken: bits & 2 != 0 ? "refresh-\(bits)" : nil,
                idToken: bits & 4 != 0 ? String(repeating: "i", count: 300) : nil,
                scope: bits & 8 != 0 ? ["openid", "email", ""] : nil,
                raw: bits & 8 != 0 ? ["refresh_expires_in": .number(1800), "note": .string("ü")] : [:],
                dpopKey: key)
        }
    }

    @Test func theDPoPKeyIsKept() throws {
        let tokens = try #require(Self.tokenSets.first { $0.dpopKey != nil })
        let back = try TokenSetFormat.decodeSessionTokens(try TokenSetFormat.encode(tokens))
        #expect(back.dpopKey == tokens.dpopKey && back.dpopKey != nil)
        #expect(back.dpopKey?.rawRepresentation == tokens.dpopKey?.rawRepresentation)
    }

    @Test(arguments: tokenSets)
    func version2RoundTrips(_ tokens: TokenSet) throws {
        let encoded = try TokenSetFormat.encode(tokens)
        #expect(encoded.first == TokenSetFormat.version2)
        #expect(try TokenSetFormat.decodeTokenSet(encoded) == tokens)
        #expect(try TokenSetFormat.decodeSessionTokens(encoded) == SessionTokens(tokens))
    }

    @Test(arguments: tokenSets)
    func version1StillDecodes(_ tokens: TokenSet) throws {
        let json = Array(try JSONEncoder().encode(tokens))
        #expect(try TokenSetFormat.decodeTokenSet(json) == tokens)
        #expect(try TokenSetFormat.decodeSessionTokens(json) == SessionTokens(tokens))
    }

    @Test func everyTruncationIsCorrupt() throws {
        let encoded = try TokenSetFormat.encode(try #require(Self.tokenSets.last))
        for length in 0..<encoded.count {
            let prefix = Array(encoded.prefix(length))
            #expect(throws: StoreError.corrupt, "\(length) bytes") { try TokenSetFormat.decodeTokenSet(prefix) }
        }
        #expect(throws: StoreError.corrupt) { try TokenSetFormat.decodeTokenSet(encoded + [0]) }
        // A length that claims more than is there.
        #expect(throws: StoreError.corrupt) { try TokenSetFormat.decodeSessionTokens([0x02, 0x00, 0xFF, 0xFF, 0x7F]) }
    }

    @Test func cachedSessionRoundTrips() throws {
        let start = Date(timeIntervalSince1970: 1_000_000_000.25)
        let identities = [
            Identity(issuer: "https://idp.example/realms/x", subject: "s"),
            Identity(
                issuer: "https://idp.example/realms/x", subject: "0f6a1c2e-5b7d-4c3a-9e8f-1a2b3c4d5e6f",
                email: "ada.lovelace@example.com", emailVerified: false, name: "Ada Lovelace — ünïcode",
                preferredUsername: "ada", groups: ["engineering", "platform-admins", ""], sessionID: "sid-1"),
        ]
        for (index, identity) in identities.enumerated() {
            let tokens = SessionTokens(Self.tokenSets[index == 0 ? 0 : 15])
            let session = Session(
                idHash: SessionHash(of: "x\(index)"), identity: identity, provider: "keycloak-\(index)", tokens: tokens,
                createdAt: start, lastSeenAt: start.addingTimeInterval(1), idleExpiresAt: start.addingTimeInterval(2),
                absoluteExpiresAt: start.addingTimeInterval(3), version: 7)
            let back = try #require(CachedSession(session).session(idHash: session.idHash))
            #expect(back.identity == identity)
            #expect(back.tokens == tokens)
            #expect(back.provider == session.provider)
            #expect(back.idHash == session.idHash)
            #expect(
                [back.createdAt, back.lastSeenAt, back.idleExpiresAt, back.absoluteExpiresAt]
                    == [session.createdAt, session.lastSeenAt, session.idleExpiresAt, session.absoluteExpiresAt])
            #expect(back.version == 7)
        }
    }
}
