import Foundation
import JWTKit

/// The IdP's published signing keys (a JWKS, RFC 7517 §5), each prepared once per algorithm it
/// may verify, so that verifying a token costs a dictionary lookup and the signature check.
///
/// Key selection is done here, not by `JWTKeyCollection`, which falls back to its default key
/// on an unknown or absent `kid`.
public struct KeySet: Sendable {
    struct Entry: Sendable {
        var keyID: String?
        var keyType: String
        /// The JWK's own `alg`, which then fixes the algorithm (RFC 7517 §4.4).
        var algorithm: String?
        var verifiers: [String: any JWTAlgorithm]
    }

    let entries: [Entry]

    /// The key ids published, for diagnostics.
    public var keyIDs: [String?] { entries.map(\.keyID) }

    /// The algorithms Gatehouse verifies: asymmetric only. `none` and the HMAC family are never
    /// accepted for ID tokens from a confidential exchange (no shared-secret keys in a JWKS).
    public static let supportedAlgorithms: Set<String> = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    ]

    /// What a JWKS entry looks like before jwt-kit parses it: the fields jwt-kit's `JWK` drops.
    private struct EntryHead: Decodable {
        var kty: String?
        var kid: String?
        var use: String?
        var alg: String?
        var crv: String?
    }

    private struct Document: Decodable {
        var keys: [EntryHead]
    }

    /// Prepares verifiers for every signing key in `jwks` and every algorithm in `algorithms`
    /// that suits it. Keys for encryption (`use: enc`), of unknown types, or that fail to parse
    /// are skipped; a document that is not a JWKS is an error.
    public static func build(jwks: [UInt8], algorithms: Set<String>) async throws(OAuthError) -> KeySet {
        let heads: [EntryHead]
        let rawKeys: [RawDocument.Key]
        do {
            heads = try JSONDecoder().decode(Document.self, from: Data(jwks)).keys
            // jwt-kit rejects a whole set on one unknown kty; decode entry by entry instead.
            rawKeys = try JSONDecoder().decode(RawDocument.self, from: Data(jwks)).keys
        } catch {
            throw OAuthError(.malformedResponse, "the JWKS is not a JSON object with a keys array")
        }
        var entries: [Entry] = []
        for (index, head) in heads.enumerated() {
            if let use = head.use, use != "sig" { continue }
            guard let kty = head.kty, index < rawKeys.count, var jwk = rawKeys[index].jwk else { continue }
            let candidates = head.alg.map { [$0] } ?? Array(algorithms)
            var verifiers: [String: any JWTAlgorithm] = [:]
            for algorithm in candidates where algorithms.contains(algorithm) {
                guard Self.fits(algorithm: algorithm, keyType: kty, curve: head.crv),
                    let jwkAlgorithm = JWK.Algorithm(rawValue: algorithm)
                else { continue }
                jwk.algorithm = jwkAlgorithm
                jwk.keyIdentifier = JWKIdentifier(string: "key")
                let collection = JWTKeyCollection()
                guard (try? await collection.add(jwk: jwk)) != nil,
                    let verifier = try? await collection.getKey(for: JWKIdentifier(string: "key"), alg: algorithm)
                else { continue }
                verifiers[algorithm] = verifier
            }
            entries.append(Entry(keyID: head.kid, keyType: kty, algorithm: head.alg, verifiers: verifiers))
        }
        return KeySet(entries: entries)
    }

    private struct RawDocument: Decodable {
        struct Key: Decodable {
            var jwk: JWK?
            init(from decoder: any Decoder) throws {
                self.jwk = try? JWK(from: decoder)
            }
        }
        var keys: [Key]
    }

    /// Whether `algorithm` can be used with a key of this type and curve (RFC 7518 §3).
    static func fits(algorithm: String, keyType: String, curve: String?) -> Bool {
        switch (algorithm, keyType) {
        case ("RS256", "RSA"), ("RS384", "RSA"), ("RS512", "RSA"),
            ("PS256", "RSA"), ("PS384", "RSA"), ("PS512", "RSA"):
            true
        case ("ES256", "EC"): curve == "P-256"
        case ("ES384", "EC"): curve == "P-384"
        case ("ES512", "EC"): curve == "P-521"
        case ("EdDSA", "OKP"): curve == "Ed25519"
        default: false
        }
    }

    /// The verifier for a token's header: by `kid` when present; without a `kid` only when
    /// exactly one key suits the algorithm (OpenID conformance: kid-absent-multiple-jwks).
    func verifier(keyID: String?, algorithm: String) throws(OAuthError) -> any JWTAlgorithm {
        if let keyID {
            var matched = false
            for entry in entries where entry.keyID == keyID {
                matched = true
                if let verifier = entry.verifiers[algorithm] { return verifier }
            }
            guard matched else {
                throw OAuthError(.idTokenKeyNotFound, "no published key has the token's kid")
            }
            throw OAuthError(
                .idTokenAlgorithmMismatch,
                "the key named by the token's kid is not for \(OAuthError.sanitize(algorithm, limit: 16))")
        }
        let candidates = entries.compactMap { $0.verifiers[algorithm] }
        switch candidates.count {
        case 1: return candidates[0]
        case 0: throw OAuthError(.idTokenKeyNotFound, "no published key suits the token's alg")
        default:
            throw OAuthError(.idTokenAmbiguousKey, "the token has no kid and several published keys could verify it")
        }
    }
}
