import Crypto
import Foundation
import JWTKit

/// A client's private key for `private_key_jwt` (RFC 7523 §2.2) and signed request objects,
/// read from PEM: RSA of at least 2048 bits (signs RS256, or PS256 — the only RSA algorithm
/// FAPI 2.0 allows — with ``usingPSS()``) or EC P-256 (signs ES256). Its `kid` is the one given, else
/// the key's RFC 7638 JWK thumbprint — what a provider computes for a registered JWKS.
public struct ClientSigningKey: Sendable {
    enum Material: Sendable {
        case rsa(JWTKit.Insecure.RSA.PrivateKey)
        case p256(ES256PrivateKey)
    }

    let material: Material
    /// The assertion header's `kid`.
    public let keyID: String
    /// An RSA key signs RSASSA-PSS (PS256) instead of PKCS #1 v1.5 (RS256).
    private(set) var signsPSS = false

    /// - Throws: `invalid_configuration` when `pem` is not an RSA (≥ 2048 bits) or P-256
    ///   private key; the message never repeats the key.
    public init(pem: String, keyID: String? = nil) throws(OAuthError) {
        if let rsa = try? JWTKit.Insecure.RSA.PrivateKey(pem: pem) {
            material = .rsa(rsa)
        } else if let ec = try? ES256PrivateKey(pem: pem) {
            material = .p256(ec)
        } else {
            throw OAuthError(
                .invalidConfiguration, "the client key is not a PEM private key: RSA of 2048 bits or more, or EC P-256")
        }
        guard let keyID = keyID ?? Self.thumbprint(of: material) else {
            throw OAuthError(.invalidConfiguration, "the client key's thumbprint cannot be computed")
        }
        self.keyID = keyID
    }

    /// `RS256`, `PS256` or `ES256`.
    public var algorithm: String {
        switch material {
        case .rsa: signsPSS ? "PS256" : "RS256"
        case .p256: "ES256"
        }
    }

    /// The same key signing PS256 when it is an RSA key (an EC key is returned unchanged).
    public func usingPSS() -> ClientSigningKey {
        var key = self
        if case .rsa = material { key.signsPSS = true }
        return key
    }

    /// Adds the key to `keys` under ``keyID``.
    func add(to keys: JWTKeyCollection) async {
        switch material {
        case .rsa(let key) where signsPSS: await keys.add(pss: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyID))
        case .rsa(let key): await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyID))
        case .p256(let key): await keys.add(ecdsa: key, kid: JWKIdentifier(string: keyID))
        }
    }

    /// RFC 7638 for an RSA public key.
    static func rsaThumbprint(modulus: Data, exponent: Data) -> String {
        thumbprint(members: #"{"e":"\#(Base64URL.encode(exponent))","kty":"RSA","n":"\#(Base64URL.encode(modulus))"}"#)
    }

    /// RFC 7638: SHA-256 over the required public members in lexical order, base64url.
    static func thumbprint(of material: Material) -> String? {
        switch material {
        case .rsa(let key):
            guard let primitives = try? key.publicKey.getKeyPrimitives() else { return nil }
            return rsaThumbprint(modulus: primitives.modulus, exponent: primitives.publicExponent)
        case .p256(let key):
            guard let point = key.parameters else { return nil }
            return thumbprint(members: #"{"crv":"P-256","kty":"EC","x":"\#(point.x)","y":"\#(point.y)"}"#)
        }
    }

    private static func thumbprint(members: String) -> String {
        Base64URL.encode(Crypto.SHA256.hash(data: Data(members.utf8)))
    }
}
