import Crypto

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the hash of the access token's
/// ASCII bytes, with the hash of the ID token's `alg`, base64url-encoded.
enum AccessTokenHash {
    static func compute(accessToken: String, algorithm: String) -> String? {
        let bytes = Array(accessToken.utf8)
        let digest: [UInt8]
        switch algorithm {
        case "RS256", "PS256", "ES256": digest = Array(SHA256.hash(data: bytes))
        case "RS384", "PS384", "ES384": digest = Array(SHA384.hash(data: bytes))
        // EdDSA with Ed25519 hashes with SHA-512 (OpenID Foundation clarification).
        case "RS512", "PS512", "ES512", "EdDSA": digest = Array(SHA512.hash(data: bytes))
        default: return nil
        }
        return Base64URL.encode(digest.prefix(digest.count / 2))
    }
}
