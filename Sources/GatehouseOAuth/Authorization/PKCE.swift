import Crypto

/// Proof Key for Code Exchange (RFC 7636), S256 only.
public struct PKCE: Sendable, Hashable {
    /// The secret `code_verifier`: 43 characters of base64url from 32 random bytes
    /// (RFC 7636 §4.1 recommends 32 octets). Kept server-side until the code exchange.
    public let verifier: String

    /// `code_challenge` = BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2).
    public var challenge: String {
        Base64URL.encode(SHA256.hash(data: Array(verifier.utf8)))
    }

    /// Always `S256`: `plain` offers no protection if the request leaks (RFC 9700 §2.1.1).
    public var challengeMethod: String { "S256" }

    /// A fresh verifier from the system CSPRNG.
    public init() {
        self.verifier = SecureRandom.token(byteCount: 32)
    }

    /// A verifier restored from storage. RFC 7636 §4.1: 43–128 unreserved characters.
    public init(verifier: String) throws(OAuthError) {
        let allowed = verifier.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                true
            default: false
            }
        }
        guard (43...128).contains(verifier.utf8.count), allowed else {
            throw OAuthError(.invalidConfiguration, "a PKCE code_verifier must be 43-128 unreserved characters")
        }
        self.verifier = verifier
    }
}
