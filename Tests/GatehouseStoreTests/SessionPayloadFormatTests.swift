import Foundation
import GatehouseOAuth
import Testing

@testable import GatehouseStore

/// Sealed sessions of format 1 name the preset (`oidc`, `google`…) of the one provider there
/// was; since providers have ids they read as `default`, and their rows pass the tamper check
/// whether the migration has renamed the clear column yet or not — and only then.
@Suite("Sealed session format")
struct SessionPayloadFormatTests {
    static let identity = Identity(issuer: "https://idp.example", subject: "user-1", sessionID: "sid-1")

    static func row(provider: String, payload: SessionPayload) -> SessionRow {
        SessionRow(
            idHash: SessionHash(of: "id"), subject: payload.identity.subject, idpSessionID: payload.identity.sessionID,
            provider: provider, sealed: [], legacyClaims: nil, createdAt: payload.createdAt, lastSeenAt: payload.createdAt,
            idleExpiresAt: payload.absoluteExpiresAt, absoluteExpiresAt: payload.absoluteExpiresAt, version: 1)
    }

    @Test func formatTwoKeepsTheProviderID() throws {
        let payload = SessionPayload(identity: Self.identity, provider: "corp", createdAt: 1_000, absoluteExpiresAt: 9_000)
        let bytes = try payload.encode(with: TokenSet(accessToken: "a"))
        #expect(bytes.first == SessionPayload.version2)
        let (decoded, _) = try SessionPayload.decodeWithTokenSet(bytes)
        #expect(decoded.provider == "corp" && decoded.legacyProvider == nil)
        try decoded.check(against: Self.row(provider: "corp", payload: decoded))
        #expect(throws: StoreError.self) { try decoded.check(against: Self.row(provider: "default", payload: decoded)) }
    }

    @Test func formatOneReadsAsTheDefaultProvider() throws {
        let old = SessionPayload(identity: Self.identity, provider: "oidc", createdAt: 1_000, absoluteExpiresAt: 9_000)
        var bytes = try old.encode(with: TokenSet(accessToken: "a"))
        bytes[0] = SessionPayload.version1  // the same layout, written before provider ids
        let (decoded, tokens) = try SessionPayload.decodeWithTokenSet(bytes)
        #expect(tokens.accessToken == "a")
        #expect(decoded.provider == "default" && decoded.legacyProvider == "oidc")
        #expect(decoded.identity == Self.identity)
        try decoded.check(against: Self.row(provider: "default", payload: decoded))
        try decoded.check(against: Self.row(provider: "oidc", payload: decoded))
        #expect(throws: StoreError.self) { try decoded.check(against: Self.row(provider: "corp", payload: decoded)) }
    }
}
