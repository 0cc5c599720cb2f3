import Foundation
import GatehouseOAuth

/// The plaintext of a session's sealed token set.
///
/// Version 2 (written since the cache stopped holding refresh and ID tokens) is binary, in
/// the order a request reads it, so a load decodes the access token and stops:
///
///     0x02 | flags | access token | token type | [expires at] | [issued at] | [scope]
///          | [DPoP key] | [refresh token] | [ID token] | raw (JSON object of the other
///          response fields, empty when none)
///
/// `flags`: 1 expires at, 2 refresh token, 4 ID token, 8 scope, 16 issued at (written since
/// the refresh lead time follows the token's lifetime; rows without it read as `nil`), 32 DPoP
/// key (the P-256 private scalar the tokens are bound to, RFC 9449). Strings and `raw` are
/// length-prefixed (``CompactWriter``); expires at is the `Double` of
/// `timeIntervalSinceReferenceDate`, bit for bit; scope is a count and then its strings.
///
/// Version 1 — rows written before — is the `JSONEncoder` form of ``TokenSet``; it always
/// starts with `{`, so the first byte tells the two apart and both decode.
enum TokenSetFormat {
    static let version2: UInt8 = 0x02
    private static let hasExpiry: UInt8 = 1
    private static let hasRefreshToken: UInt8 = 2
    private static let hasIDToken: UInt8 = 4
    private static let hasScope: UInt8 = 8
    private static let hasIssuedAt: UInt8 = 16
    private static let hasDPoPKey: UInt8 = 32

    static func encode(_ tokens: TokenSet) throws -> [UInt8] {
        var writer = CompactWriter(capacity: 32 + tokens.accessToken.utf8.count)
        try encode(tokens, into: &writer)
        return writer.bytes
    }

    /// Appends the version 2 form of `tokens` to `writer` (``SessionPayload`` ends with it).
    static func encode(_ tokens: TokenSet, into writer: inout CompactWriter) throws {
        let raw: [UInt8]
        do {
            raw = tokens.raw.isEmpty ? [] : Array(try JSONEncoder().encode(tokens.raw))
        } catch {
            throw StoreError.corrupt.withDetail("token set cannot be encoded")
        }
        var flags: UInt8 = 0
        if tokens.expiresAt != nil { flags |= hasExpiry }
        if tokens.refreshToken != nil { flags |= hasRefreshToken }
        if tokens.idToken != nil { flags |= hasIDToken }
        if tokens.scope != nil { flags |= hasScope }
        if tokens.issuedAt != nil { flags |= hasIssuedAt }
        if tokens.dpopKey != nil { flags |= hasDPoPKey }
        writer.reserve(
            32 + tokens.accessToken.utf8.count + (tokens.refreshToken?.utf8.count ?? 0)
                + (tokens.idToken?.utf8.count ?? 0) + raw.count)
        writer.byte(version2)
        writer.byte(flags)
        writer.string(tokens.accessToken)
        writer.string(tokens.tokenType)
        if let expiresAt = tokens.expiresAt { writer.double(expiresAt.timeIntervalSinceReferenceDate) }
        if let issuedAt = tokens.issuedAt { writer.double(issuedAt.timeIntervalSinceReferenceDate) }
        if let scope = tokens.scope {
            writer.length(scope.count)
            for item in scope { writer.string(item) }
        }
        if let dpopKey = tokens.dpopKey { writer.data(dpopKey.rawRepresentation) }
        if let refreshToken = tokens.refreshToken { writer.string(refreshToken) }
        if let idToken = tokens.idToken { writer.string(idToken) }
        writer.data(raw)
    }

    /// The complete token set in `plaintext`, starting at `start` (``SessionPayload`` has it
    /// last; only a token set on its own, at 0, may be version 1).
    ///
    /// - Throws: ``StoreError/corrupt`` when the plaintext is neither version.
    static func decodeTokenSet(_ plaintext: [UInt8], from start: Int = 0) throws -> TokenSet {
        guard start < plaintext.count, plaintext[start] == version2 else {
            guard start == 0 else { throw StoreError.corrupt.withDetail("stored token set is not valid") }
            return try decodeVersion1(plaintext)
        }
        var reader = CompactReader(plaintext, offset: start + 1)
        let (flags, view) = try readView(&reader)
        let refreshToken = flags & hasRefreshToken != 0 ? try reader.string() : nil
        let idToken = flags & hasIDToken != 0 ? try reader.string() : nil
        let rawBytes = try reader.data()
        guard reader.isAtEnd else { throw StoreError.corrupt.withDetail("stored token set has trailing bytes") }
        var raw: [String: JSONValue] = [:]
        if !rawBytes.isEmpty {
            do {
                raw = try JSONDecoder().decode([String: JSONValue].self, from: Data(rawBytes))
            } catch {
                throw StoreError.corrupt.withDetail("stored token set is not valid")
            }
        }
        return TokenSet(
            accessToken: view.accessToken, tokenType: view.tokenType, expiresAt: view.expiresAt,
            issuedAt: view.issuedAt, refreshToken: refreshToken, idToken: idToken, scope: view.scope, raw: raw,
            dpopKey: view.dpopKey)
    }

    /// What a request needs, without decoding the refresh token, the ID token or `raw`.
    static func decodeSessionTokens(_ plaintext: [UInt8], from start: Int = 0) throws -> SessionTokens {
        guard start < plaintext.count, plaintext[start] == version2 else {
            guard start == 0 else { throw StoreError.corrupt.withDetail("stored token set is not valid") }
            return SessionTokens(try decodeVersion1(plaintext))
        }
        var reader = CompactReader(plaintext, offset: start + 1)
        return try readView(&reader).1
    }

    private static func readView(_ reader: inout CompactReader) throws -> (UInt8, SessionTokens) {
        let flags = try reader.byte()
        let accessToken = try reader.string()
        let tokenType = try reader.string()
        let expiresAt = flags & hasExpiry != 0 ? Date(timeIntervalSinceReferenceDate: try reader.double()) : nil
        let issuedAt = flags & hasIssuedAt != 0 ? Date(timeIntervalSinceReferenceDate: try reader.double()) : nil
        var scope: [String]?
        if flags & hasScope != 0 {
            let count = try reader.length()
            var items: [String] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try reader.string()) }
            scope = items
        }
        var dpopKey: DPoPKey?
        if flags & hasDPoPKey != 0 {
            do {
                dpopKey = try DPoPKey(rawRepresentation: try reader.data())
            } catch {
                throw StoreError.corrupt.withDetail("stored DPoP key is not valid")
            }
        }
        let tokens = SessionTokens(
            accessToken: accessToken, tokenType: tokenType, expiresAt: expiresAt, issuedAt: issuedAt, scope: scope,
            hasRefreshToken: flags & hasRefreshToken != 0, hasIDToken: flags & hasIDToken != 0, dpopKey: dpopKey)
        return (flags, tokens)
    }

    private static func decodeVersion1(_ plaintext: [UInt8]) throws -> TokenSet {
        do {
            return try JSONDecoder().decode(TokenSet.self, from: Data(plaintext))
        } catch {
            throw StoreError.corrupt.withDetail("stored token set is not valid")
        }
    }
}
