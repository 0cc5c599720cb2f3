import Foundation
import JWTKit

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
        // Fast path: split on bytes. When it finds exactly two dots and three parts that
        // decode, every byte is ASCII and the result is the character split's; anything else
        // takes the character path, for its exact error.
        let fast = token.utf8.withContiguousStorageIfAvailable { Parts(bytes: $0) }
        let parts: Parts
        if let fastParts = fast ?? nil {
            parts = fastParts
        } else {
            parts = try Parts(characters: token, malformed: malformed)
        }
        if let header = Header(plain: parts.header) {
            self.header = header
        } else {
            do {
                self.header = try JSONDecoder().decode(Header.self, from: Data(parts.header))
            } catch {
                throw OAuthError(malformed, "the token's header is not a JSON object with an alg")
            }
        }
        self.payload = parts.payload
        self.signature = parts.signature
        self.signingInput = parts.signingInput
    }

    /// The three parts, decoded, and the signing input.
    private struct Parts {
        var header: [UInt8]
        var payload: [UInt8]
        var signature: [UInt8]
        var signingInput: [UInt8]

        /// Splits a token on its bytes; `nil` unless it has two dots and all three parts
        /// decode (which a third dot, or any byte outside the alphabet, prevents).
        init?(bytes: UnsafeBufferPointer<UInt8>) {
            guard let base = bytes.baseAddress,
                let firstDot = memchr(base, Int32(UInt8(ascii: ".")), bytes.count)
                    .map({ UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }),
                let secondDot = memchr(base + firstDot + 1, Int32(UInt8(ascii: ".")), bytes.count - firstDot - 1)
                    .map({ UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base }),
                let header = Base64URL.decode(UnsafeBufferPointer(rebasing: bytes[..<firstDot])),
                let payload = Base64URL.decode(UnsafeBufferPointer(rebasing: bytes[(firstDot + 1)..<secondDot])),
                let signature = Base64URL.decode(UnsafeBufferPointer(rebasing: bytes[(secondDot + 1)...]))
            else { return nil }
            self.init(header: header, payload: payload, signature: signature, signingInput: Array(bytes[..<secondDot]))
        }

        init(header: [UInt8], payload: [UInt8], signature: [UInt8], signingInput: [UInt8]) {
            self.header = header
            self.payload = payload
            self.signature = signature
            self.signingInput = signingInput
        }

        /// The general path, for whatever the byte split declines: split on characters.
        init(characters token: String, malformed: OAuthError.Code) throws(OAuthError) {
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                // Five parts would be a JWE; ID tokens encrypted to us are not supported.
                throw OAuthError(malformed, "the token is not a JWS in compact serialization")
            }
            guard let header = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
                let signature = Base64URL.decode(parts[2])
            else {
                throw OAuthError(malformed, "the token is not base64url encoded")
            }
            self.header = header
            self.payload = payload
            self.signature = signature
            let signingEnd = parts[1].endIndex
            self.signingInput = Array(token[token.startIndex..<signingEnd].utf8)
        }
    }
}

extension CompactJWS.Header {
    /// The header from ``PlainJSON``'s fast path, when it applies and every field has the type
    /// the synthesized `Decodable` conformance accepts (an absent or `null` optional is `nil`);
    /// otherwise `nil`, and `JSONDecoder` decides.
    init?(plain bytes: [UInt8]) {
        guard let members = PlainJSON.memberList(bytes) else { return nil }
        func member(_ name: String) -> JSONValue? {
            members.first(where: { $0.key == name })?.value
        }
        guard case .string(let alg)? = member("alg") else { return nil }
        func optionalString(_ name: String) -> String?? {
            switch member(name) {
            case nil, .null?: return .some(nil)
            case .string(let value)?: return .some(value)
            default: return nil
            }
        }
        guard let kid = optionalString("kid"), let typ = optionalString("typ") else { return nil }
        let crit: [String]?
        switch member("crit") {
        case nil, .null?: crit = nil
        case .array(let values)?:
            let strings = values.compactMap(\.stringValue)
            guard strings.count == values.count else { return nil }
            crit = strings
        default: return nil
        }
        self.init(alg: alg, kid: kid, typ: typ, crit: crit)
    }
}

extension CompactJWS {
    /// Checks the signature over the signing input with the selected key; `name` ("ID token",
    /// "logout token") is for the error message.
    func verifySignature(with verifier: any JWTAlgorithm, name: String) throws(OAuthError) {
        guard (try? verifier.verify(signature, signs: signingInput)) == true else {
            throw OAuthError(.idTokenBadSignature, "the \(name)'s signature does not verify with the IdP's key")
        }
    }
}
