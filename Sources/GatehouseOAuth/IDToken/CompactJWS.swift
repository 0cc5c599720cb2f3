import Foundation

/// A JWS in compact serialization (RFC 7515 §7.1), split and decoded but not yet trusted.
struct CompactJWS: Sendable {
    struct Header: Decodable, Sendable {
        var alg: String
        var kid: String?
        var typ: String?
        var crit: [String]?
    }

    let header: Header
    let payload: [UInt8]
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, the bytes the signature covers.
    let signingInput: [UInt8]
    let signature: [UInt8]

    /// Upper bound on a token's size; real ID tokens are a few kilobytes.
    static let maximumLength = 64 * 1024

    /// Splits and decodes; any deviation from the format is ``OAuthError/Code/idTokenMalformed``.
    init(_ token: String, code malformed: OAuthError.Code = .idTokenMalformed) throws(OAuthError) {
        guard token.utf8.count <= Self.maximumLength else {
            throw OAuthError(malformed, "the token is larger than \(Self.maximumLength) bytes")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            // Five parts would be a JWE; ID tokens encrypted to us are not supported.
            throw OAuthError(malformed, "the token is not a JWS in compact serialization")
        }
        guard let headerBytes = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else {
            throw OAuthError(malformed, "the token is not base64url encoded")
        }
        do {
            self.header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch {
            throw OAuthError(malformed, "the token's header is not a JSON object with an alg")
        }
        self.payload = payload
        self.signature = signature
        let signingEnd = parts[1].endIndex
        self.signingInput = Array(token[token.startIndex..<signingEnd].utf8)
    }
}
