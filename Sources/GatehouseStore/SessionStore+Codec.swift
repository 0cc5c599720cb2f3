import Foundation
import GatehouseOAuth

/// Turning rows into sessions and back: JSON for claims, ``TokenSetFormat`` for token sets,
/// the key ring for secrets.
extension SessionStore {
    func sealTokens(_ tokens: TokenSet, for hash: SessionHash) throws -> [UInt8] {
        try keyRing.seal(try TokenSetFormat.encode(tokens), purpose: .sessionTokens, boundTo: hash)
    }

    /// The decrypted session of a row, with only the request-time view of its tokens (the
    /// refresh and ID tokens are not decoded).
    ///
    /// - Throws: ``StoreError/keyMissing`` or ``StoreError/tampered`` from the key ring;
    ///   ``StoreError/corrupt`` when the claims or the opened token set are not valid.
    func decode(_ row: SessionRow) throws -> Session {
        let identity = try Self.decodeClaims(row.claims)
        let opened = try keyRing.open(row.sealedTokens, purpose: .sessionTokens, boundTo: row.idHash)
        return Self.session(from: row, identity: identity, tokens: try TokenSetFormat.decodeSessionTokens(opened.plaintext))
    }

    /// The decrypted session of a row with its complete token set; throws as ``decode(_:)``.
    func decodeWithTokenSet(_ row: SessionRow) throws -> SessionWithTokenSet {
        let identity = try Self.decodeClaims(row.claims)
        let opened = try keyRing.open(row.sealedTokens, purpose: .sessionTokens, boundTo: row.idHash)
        let tokenSet = try TokenSetFormat.decodeTokenSet(opened.plaintext)
        return SessionWithTokenSet(
            session: Self.session(from: row, identity: identity, tokens: SessionTokens(tokenSet)), tokenSet: tokenSet)
    }

    static func session(from row: SessionRow, identity: Identity, tokens: SessionTokens) -> Session {
        Session(
            idHash: row.idHash, identity: identity, provider: row.provider, tokens: tokens,
            createdAt: Date(storeMilliseconds: row.createdAt),
            lastSeenAt: Date(storeMilliseconds: row.lastSeenAt),
            idleExpiresAt: Date(storeMilliseconds: min(row.idleExpiresAt, row.absoluteExpiresAt)),
            absoluteExpiresAt: Date(storeMilliseconds: row.absoluteExpiresAt),
            version: row.version)
    }

    static func encodeClaims(_ identity: Identity) throws -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(identity))
        } catch {
            throw StoreError.corrupt.withDetail("identity cannot be encoded")
        }
    }

    static func decodeClaims(_ claims: [UInt8]) throws -> Identity {
        do {
            return try JSONDecoder().decode(Identity.self, from: Data(claims))
        } catch {
            throw StoreError.corrupt.withDetail("stored claims are not valid")
        }
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
