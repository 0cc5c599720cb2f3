import Crypto
import Foundation

/// Unguessable identifiers and the hashes the state is keyed by.
enum Random {
    /// 256 random bits, base64url without padding (codes, tokens, session ids).
    static func token() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(bytes)
    }
}

/// Hashing helpers: secrets are stored by their SHA-256, never as given.
enum Hash {
    /// SHA-256 of the UTF-8 bytes, base64url (used as a dictionary key for tokens and codes).
    static func sha256(_ text: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Array(text.utf8))))
    }

    /// OIDC Core §3.1.3.6 `at_hash`: the left half of the SHA-256 of the access token's ASCII
    /// bytes, base64url (SHA-256 because RS256 and ES256 both use it).
    static func leftHalfSHA256(_ text: String) -> String {
        let digest = Array(SHA256.hash(data: Array(text.utf8)))
        return Base64URL.encode(Array(digest.prefix(digest.count / 2)))
    }

    /// Compares two secrets without an early exit on the first differing byte.
    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

/// Base64url without padding (RFC 7515 §2).
enum Base64URL {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
