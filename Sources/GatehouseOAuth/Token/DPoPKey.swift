import Crypto
public import Foundation

/// A proof-of-possession key (RFC 9449, DPoP): ES256 (P-256). Tokens issued to a request
/// signed with it are bound to it (`cnf.jkt`, its RFC 7638 thumbprint), so a stolen access or
/// refresh token is useless without the key. Keep one per session, sealed with its tokens
/// (``TokenSet/dpopKey``); its description never shows the private key.
public struct DPoPKey: Sendable, Hashable, Codable, CustomStringConvertible {
    let key: P256.Signing.PrivateKey

    /// A new random key.
    public init() {
        key = P256.Signing.PrivateKey()
    }

    /// The key from ``rawRepresentation``.
    public init(rawRepresentation: some ContiguousBytes) throws {
        key = try P256.Signing.PrivateKey(rawRepresentation: rawRepresentation)
    }

    /// The private scalar, to seal with the session it belongs to (never send it anywhere).
    public var rawRepresentation: Data { key.rawRepresentation }

    public static func == (lhs: DPoPKey, rhs: DPoPKey) -> Bool {
        lhs.key.publicKey.rawRepresentation == rhs.key.publicKey.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key.publicKey.rawRepresentation)
    }

    /// The private scalar, base64url (``TokenSet``'s JSON form, only ever sealed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let raw = Base64URL.decode(Substring(try container.decode(String.self))) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a DPoP key is base64url")
        }
        try self.init(rawRepresentation: raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Base64URL.encode(key.rawRepresentation))
    }

    /// Names the key by its thumbprint only.
    public var description: String { "DPoPKey(jkt: \(thumbprint))" }

    /// The public key as a JWK (`kty`, `crv`, `x`, `y`), members in RFC 7638's order.
    var publicJWK: [(String, String)] {
        let point = Array(key.publicKey.x963Representation)  // 0x04 || x || y
        return [
            ("crv", "P-256"), ("kty", "EC"), ("x", Base64URL.encode(point[1..<33])), ("y", Base64URL.encode(point[33..<65])),
        ]
    }

    /// RFC 7638 thumbprint: base64url SHA-256 of the canonical JWK — the `dpop_jkt` of an
    /// authorization request and the `cnf.jkt` of bound tokens.
    public var thumbprint: String {
        let canonical = "{" + publicJWK.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}"
        return Base64URL.encode(SHA256.hash(data: Array(canonical.utf8)))
    }

    /// A DPoP proof (RFC 9449 §4.2) for a request: `typ: dpop+jwt`, the public key in `jwk`;
    /// `jti`, `htm`, `htu` (without query and fragment), `iat`, and — for a resource request —
    /// `ath` (the access token's SHA-256), and the server's `nonce` when it gave one.
    public func proof(method: String, url: String, accessToken: String? = nil, nonce: String? = nil, now: Date) throws
        -> String
    {
        let target = url.prefix { $0 != "?" && $0 != "#" }
        var header = "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{"
        header += publicJWK.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}}"
        var claims: [String: JSONValue] = [
            "jti": .string(SecureRandom.token(byteCount: 16)), "htm": .string(method.uppercased()),
            "htu": .string(String(target)), "iat": .number(now.timeIntervalSince1970.rounded(.down)),
        ]
        if let accessToken { claims["ath"] = .string(Base64URL.encode(SHA256.hash(data: Array(accessToken.utf8)))) }
        if let nonce { claims["nonce"] = .string(nonce) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(try encoder.encode(JSONValue.object(claims)))
        let signature = try key.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }
}
