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

    /// The step-up context and retained claims survive the sealed form and the cache's.
    @Test func authContextAndClaimsRoundTrip() throws {
        var identity = Self.identity
        identity.acr = "mfa"
        identity.authTime = Date(timeIntervalSince1970: 1_700_000_000.123)
        identity.claims = ["org.id": ["42"], "roles": ["admin", "ops"]]
        let payload = SessionPayload(identity: identity, provider: "corp", createdAt: 1_000, absoluteExpiresAt: 9_000)
        let (decoded, _) = try SessionPayload.decodeWithTokenSet(try payload.encode(with: TokenSet(accessToken: "a")))
        #expect(decoded.identity == identity)
        let session = Session(
            idHash: SessionHash(of: "id"), identity: identity, provider: "corp", tokens: SessionTokens(TokenSet(accessToken: "a")),
            createdAt: Date(timeIntervalSince1970: 1), lastSeenAt: Date(timeIntervalSince1970: 1),
            idleExpiresAt: Date(timeIntervalSince1970: 9), absoluteExpiresAt: Date(timeIntervalSince1970: 9), version: 1)
        #expect(CachedSession(session).session(idHash: session.idHash)?.identity == identity)
        // Without them, the bytes are those of before (no flag, nothing appended).
        let plain = SessionPayload(identity: Self.identity, provider: "corp", createdAt: 1_000, absoluteExpiresAt: 9_000)
        let plainBytes = try plain.encode(with: TokenSet(accessToken: "a"))
        #expect(try SessionPayload.decodeWithTokenSet(plainBytes).0.identity == Self.identity)
    }
}
