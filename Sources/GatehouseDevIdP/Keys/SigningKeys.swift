import CryptoExtras
import Foundation
import JWTKit
import Synchronization

/// The IdP's signing keys: one RS256 and one ES256 key that sign now, plus the pair before the
/// last rotation, still published in the JWKS so tokens signed before it keep validating.
final class SigningKeys: Sendable {
    /// One RS256 and one ES256 private key with their key ids.
    struct Generation: Sendable {
        let rsa: JWTKit.Insecure.RSA.PrivateKey
        let ecdsa: ES256PrivateKey
        let rsaKeyID: String
        let ecdsaKeyID: String

        /// Fresh keys; key ids are random so a rotation always changes them.
        init() throws {
            rsa = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
            ecdsa = ES256PrivateKey()
            let suffix = String(Random.token().prefix(12))
            rsaKeyID = "rs256-" + suffix
            ecdsaKeyID = "es256-" + suffix
        }

        func keyID(for algorithm: RegisteredClient.SigningAlgorithm) -> String {
            switch algorithm {
            case .rs256: rsaKeyID
            case .es256: ecdsaKeyID
            }
        }

        /// The public halves as JWKs (RFC 7517 §4), each naming its `alg`.
        func publicJWKs() throws -> [JWK] {
            let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
            var keys = [
                JWK.rsa(
                    .rs256, identifier: JWKIdentifier(string: rsaKeyID),
                    modulus: Base64URL.encode(modulus), exponent: Base64URL.encode(exponent))
            ]
            if let parameters = ecdsa.publicKey.parameters {
                keys.append(
                    JWK.ecdsa(
                        .es256, identifier: JWKIdentifier(string: ecdsaKeyID), x: parameters.x, y: parameters.y,
                        curve: .p256))
            }
            return keys
        }

        /// Adds this generation's keys to `collection`.
        func add(to collection: JWTKeyCollection, publicOnly: Bool) async {
            if publicOnly {
                await collection.add(rsa: rsa.publicKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: rsaKeyID))
                await collection.add(ecdsa: ecdsa.publicKey, kid: JWKIdentifier(string: ecdsaKeyID))
            } else {
                await collection.add(rsa: rsa, digestAlgorithm: .sha256, kid: JWKIdentifier(string: rsaKeyID))
                await collection.add(ecdsa: ecdsa, kid: JWKIdentifier(string: ecdsaKeyID))
            }
        }
    }

    private struct State: Sendable {
        var current: Generation
        var previous: Generation?
        var jwks: [UInt8]
    }

    private let state: Mutex<State>

    init() throws {
        let current = try Generation()
        state = Mutex(State(current: current, previous: nil, jwks: try Self.jwks(current, nil)))
    }

    /// The JWKS document (RFC 7517 §5): current keys first, then the previous generation.
    var jwksDocument: [UInt8] {
        state.withLock { $0.jwks }
    }

    /// The key ids that sign now.
    var currentKeyIDs: [String] {
        state.withLock { [$0.current.rsaKeyID, $0.current.ecdsaKeyID] }
    }

    /// Generates new keys; the current ones move to "previous" (published, no longer signing)
    /// and the previous ones are dropped.
    func rotate() throws {
        let next = try Generation()
        try state.withLock { state in
            state.jwks = try Self.jwks(next, state.current)
            state.previous = state.current
            state.current = next
        }
    }

    /// Signs `payload` with the current key for `algorithm`, with `kid` and `typ` headers.
    func sign(
        _ payload: some JWTPayload, algorithm: RegisteredClient.SigningAlgorithm, type: String = "JWT"
    ) async throws -> String {
        let generation = state.withLock { $0.current }
        let collection = JWTKeyCollection()
        await generation.add(to: collection, publicOnly: false)
        var header = JWTHeader()
        header.typ = type
        return try await collection.sign(
            payload, kid: JWKIdentifier(string: generation.keyID(for: algorithm)), header: header)
    }

    /// Verifies a token this IdP signed (an `id_token_hint`) with a published key. Only our
    /// own keys are in the collection, so jwt-kit's default-key fallback cannot admit a
    /// foreign key.
    func verify<Payload: JWTPayload>(_ token: String, as type: Payload.Type) async throws -> Payload {
        let (current, previous) = state.withLock { ($0.current, $0.previous) }
        let collection = JWTKeyCollection()
        await current.add(to: collection, publicOnly: true)
        if let previous { await previous.add(to: collection, publicOnly: true) }
        return try await collection.verify(token, as: type)
    }

    private static func jwks(_ current: Generation, _ previous: Generation?) throws -> [UInt8] {
        let keys = try current.publicJWKs() + (previous?.publicJWKs() ?? [])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(JWKS(keys: keys)))
    }
}
