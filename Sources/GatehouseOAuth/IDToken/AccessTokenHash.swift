import Crypto

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the hash of the access token's
/// ASCII bytes, with the hash of the ID token's `alg`, base64url-encoded.
enum AccessTokenHash {
    static func compute(accessToken: String, algorithm: String) -> String? {
        var accessToken = accessToken
        // Hashes the UTF-8 bytes in place (a copy only for a bridged string).
        return accessToken.withUTF8 { bytes -> String? in
            let bytes = UnsafeRawBufferPointer(bytes)
            switch algorithm {
            case "RS256", "PS256", "ES256": return leftHalf(of: SHA256.hash(data: bytes))
            case "RS384", "PS384", "ES384": return leftHalf(of: SHA384.hash(data: bytes))
            // EdDSA with Ed25519 hashes with SHA-512 (OpenID Foundation clarification).
            case "RS512", "PS512", "ES512", "EdDSA": return leftHalf(of: SHA512.hash(data: bytes))
            default: return nil
            }
        }
    }

    private static func leftHalf(of digest: some Digest) -> String {
        digest.withUnsafeBytes { bytes in
            Base64URL.encode(UnsafeRawBufferPointer(rebasing: bytes.prefix(bytes.count / 2)))
        }
    }
}
