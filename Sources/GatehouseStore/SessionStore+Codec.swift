import Foundation
import GatehouseOAuth

/// Turning rows into sessions and back: ``SessionPayload`` (identity, provider, deadlines)
/// and ``TokenSetFormat`` (tokens) sealed together by the key ring.
extension SessionStore {
    /// The sealed column for `payload` and `tokens`, bound to the row `hash`.
    func seal(_ payload: SessionPayload, tokens: TokenSet, for hash: SessionHash) throws -> [UInt8] {
        try keyRing.seal(try payload.encode(with: tokens), purpose: .session, boundTo: hash)
    }

    /// The session of a row in the current form, with only the request-time view of its tokens
    /// (the refresh and ID tokens are not decoded).
    ///
    /// - Throws: ``StoreError/keyMissing`` or ``StoreError/tampered`` from the key ring;
    ///   ``StoreError/tampered`` when a clear column differs from its sealed value;
    ///   ``StoreError/corrupt`` when the opened plaintext is not valid.
    func decode(_ row: SessionRow) throws -> Session {
        let opened = try keyRing.open(row.sealed, purpose: .session, boundTo: row.idHash)
        let (payload, tokens) = try SessionPayload.decodeWithSessionTokens(opened.plaintext)
        try payload.check(against: row)
        return Self.session(from: row, payload: payload, tokens: tokens)
    }

    /// The session of a row with its complete token set; throws as ``decode(_:)``. A row from
    /// before schema 2 is verified (``openLegacy(_:)``) but not re-sealed: for sign-out, which
    /// deletes it, and for listing.
    func decodeWithTokenSet(_ row: SessionRow) throws -> SessionWithTokenSet {
        let (payload, tokenSet) = row.legacyClaims == nil ? try openPayload(row) : try openLegacy(row)
        return SessionWithTokenSet(
            session: Self.session(from: row, payload: payload, tokens: SessionTokens(tokenSet)), tokenSet: tokenSet)
    }

    /// The checked payload and token set of a row in the current form; throws as ``decode(_:)``.
    func openPayload(_ row: SessionRow) throws -> (SessionPayload, TokenSet) {
        let opened = try keyRing.open(row.sealed, purpose: .session, boundTo: row.idHash)
        let (payload, tokenSet) = try SessionPayload.decodeWithTokenSet(opened.plaintext)
        try payload.check(against: row)
        return (payload, tokenSet)
    }

    /// The session of any row: one in the current form is decoded; one written before schema 2
    /// is served only when its sealed ID token vouches for its clear claims, and is then
    /// re-sealed in the current form (``upgradeLegacy(_:)``). Throws as ``decode(_:)`` and
    /// ``StoreError/legacyUnverified``.
    func readSession(_ row: SessionRow) async throws -> Session {
        guard row.legacyClaims == nil else { return try await upgradeLegacy(row).session }
        return try decode(row)
    }

    /// ``readSession(_:)`` with the complete token set.
    func readSessionWithTokenSet(_ row: SessionRow) async throws -> SessionWithTokenSet {
        guard row.legacyClaims == nil else { return try await upgradeLegacy(row) }
        return try decodeWithTokenSet(row)
    }

    /// A session from a row and its opened, checked payload: identity, provider, creation time
    /// and absolute deadline come from the sealed payload; the idle deadline from the row,
    /// never past the sealed absolute one.
    static func session(from row: SessionRow, payload: SessionPayload, tokens: SessionTokens) -> Session {
        Session(
            idHash: row.idHash, identity: payload.identity, provider: payload.provider, tokens: tokens,
            createdAt: Date(storeMilliseconds: payload.createdAt),
            lastSeenAt: Date(storeMilliseconds: row.lastSeenAt),
            idleExpiresAt: Date(storeMilliseconds: min(row.idleExpiresAt, payload.absoluteExpiresAt)),
            absoluteExpiresAt: Date(storeMilliseconds: payload.absoluteExpiresAt),
            version: row.version)
    }

    /// When the refresh token expires (milliseconds), if the token response says so.
    ///
    /// Keycloak sends `refresh_expires_in`, GitHub apps `refresh_token_expires_in` (seconds).
    /// `0` is Keycloak's "does not expire" (offline tokens), so only positive values count.
    static func refreshDeadline(of tokens: TokenSet, now: Int64) -> Int64? {
        for name in ["refresh_expires_in", "refresh_token_expires_in"] {
            guard let value = tokens.raw[name] else { continue }
            let seconds = value.numberValue ?? value.stringValue.flatMap(Double.init)
            guard let seconds, seconds.isFinite, seconds > 0, seconds < 1e10 else { continue }
            return now + Int64(seconds * 1000)
        }
        return nil
    }

    /// A code safe to log for any error: the store's short code, else the type name.
    static func logCode(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.shortCode }
        return String(describing: type(of: error))
    }
}
