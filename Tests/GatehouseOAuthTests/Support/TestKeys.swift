import Crypto
import CryptoExtras
import Foundation
import GatehouseOAuth
import JWTKit

/// A signing key of the test IdP (or of an attacker), with its public JWK and two ways to make
/// tokens: jwt-kit 5's own signer (`JWTKeyCollection.sign`) for well-formed tokens, and
/// ``TestKeys/craft(header:claims:signature:)`` for hand-made headers jwt-kit would never write.
struct TestKey: Sendable {
    enum Material: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    let kid: String
    let material: Material

    /// The algorithm a token signed with this key names by default.
    var defaultAlgorithm: String {
        switch material {
        case .rsa: "RS256"
        case .p256: "ES256"
        case .ed25519: "EdDSA"
        }
    }

    /// The public key as a JWK (RFC 7517 §4). `alg` is added only when given.
    func publicJWK(alg: String? = nil, kid: String? = nil, use: String? = "sig") -> JSONValue {
        var fields: [String: JSONValue] = ["kid": .string(kid ?? self.kid)]
        if let use { fields["use"] = .string(use) }
        if let alg { fields["alg"] = .string(alg) }
        switch material {
        case .rsa(let key):
            // Generated in-process, so the primitives are always available.
            if let primitives = try? key.publicKey.getKeyPrimitives() {
                fields["kty"] = .string("RSA")
                fields["n"] = .string(TestKeys.base64URL(primitives.modulus))
                fields["e"] = .string(TestKeys.base64URL(primitives.publicExponent))
            }
        case .p256(let key):
            let point = Array(key.publicKey.x963Representation)  // 0x04 || x || y
            fields["kty"] = .string("EC")
            fields["crv"] = .string("P-256")
            fields["x"] = .string(TestKeys.base64URL(point[1..<33]))
            fields["y"] = .string(TestKeys.base64URL(point[33..<65]))
        case .ed25519(let key):
            fields["kty"] = .string("OKP")
            fields["crv"] = .string("Ed25519")
            fields["x"] = .string(TestKeys.base64URL(key.publicKey.rawRepresentation))
        }
        return .object(fields)
    }

    /// Signs `input` (the JWS signing input) as `alg` would. Throws for an algorithm the key
    /// cannot do.
    func signature(_ input: [UInt8], alg: String) throws -> [UInt8] {
        switch (material, alg) {
        case (.rsa(let key), "RS256"):
            return Array(try key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), "RS384"):
            return Array(try key.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), "RS512"):
            return Array(try key.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), "PS256"):
            return Array(try key.signature(for: SHA256.hash(data: input), padding: .PSS).rawRepresentation)
        case (.p256(let key), "ES256"):
            return Array(try key.signature(for: input).rawRepresentation)
        case (.ed25519(let key), "EdDSA"):
            return Array(try key.signature(for: input))
        default:
            throw TestKeys.Failure("a \(material) key cannot sign \(alg)")
        }
    }

    /// A token signed by this key, with a header of `alg`, `typ` and `kid` (this key's unless
    /// `kid` is given; none when `omitKid`) plus `extraHeader`.
    func token(
        _ claims: [String: JSONValue],
        alg: String? = nil,
        kid: String? = nil,
        omitKid: Bool = false,
        extraHeader: [String: JSONValue] = [:]
    ) throws -> String {
        let alg = alg ?? defaultAlgorithm
        var header: [String: JSONValue] = ["alg": .string(alg), "typ": .string("JWT")]
        if !omitKid { header["kid"] = .string(kid ?? self.kid) }
        header.merge(extraHeader) { _, new in new }
        return try TestKeys.craft(header: header, claims: claims, signature: .key(self, alg: alg))
    }

    /// The same key as jwt-kit 5 sees it, for ``TestKeys/mintWithJWTKit(_:key:)``.
    func addTo(_ collection: JWTKeyCollection) async throws {
        let identifier = JWKIdentifier(string: kid)
        switch material {
        case .rsa(let key):
            await collection.add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256, kid: identifier)
        case .p256(let key):
            await collection.add(ecdsa: try ES256PrivateKey(backing: key), kid: identifier)
        case .ed25519(let key):
            await collection.add(eddsa: EdDSA.PrivateKey(backing: key), kid: identifier)
        }
    }
}

/// The keys every test shares (RSA generation is slow, so each is made once) and token helpers.
enum TestKeys {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The IdP's key before rotation.
    static let rsaA = makeRSA(kid: "rsa-a")
    /// The key the IdP rotates to.
    static let rsaB = makeRSA(kid: "rsa-b")
    /// A key the IdP never publishes.
    static let attacker = makeRSA(kid: "attacker")
    static let ec = TestKey(kid: "ec-1", material: .p256(P256.Signing.PrivateKey()))
    static let ed = TestKey(kid: "ed-1", material: .ed25519(Curve25519.Signing.PrivateKey()))
    /// The relying party's own key for `private_key_jwt`.
    static let client = makeRSA(kid: "client-key")

    private static func makeRSA(kid: String) -> TestKey {
        do {
            return TestKey(kid: kid, material: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)))
        } catch {
            fatalError("RSA key generation failed: \(error)")
        }
    }

    /// What signs a hand-crafted token.
    enum Signature {
        /// A real signature by this key with this algorithm.
        case key(TestKey, alg: String)
        /// HMAC-SHA256 with these bytes as the secret (the algorithm-confusion attack).
        case hmacSHA256(secret: [UInt8])
        /// An empty signature part (`alg: none`).
        case none
        /// Whatever bytes the test wants.
        case raw([UInt8])
    }

    /// `BASE64URL(header).BASE64URL(claims).BASE64URL(signature)` with any header at all.
    static func craft(header: [String: JSONValue], claims: [String: JSONValue], signature: Signature) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput =
            base64URL(try encoder.encode(JSONValue.object(header))) + "."
            + base64URL(try encoder.encode(JSONValue.object(claims)))
        let bytes: [UInt8]
        switch signature {
        case .key(let key, let alg): bytes = try key.signature(Array(signingInput.utf8), alg: alg)
        case .hmacSHA256(let secret):
            bytes = Array(HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: secret)))
        case .none: bytes = []
        case .raw(let raw): bytes = raw
        }
        return signingInput + "." + base64URL(bytes)
    }

    /// A token minted by jwt-kit 5 itself (`JWTKeyCollection.add(…)` + `sign(_:kid:header:)`),
    /// so the positive controls do not depend only on our own JWS encoder.
    static func mintWithJWTKit(_ claims: [String: JSONValue], key: TestKey) async throws -> String {
        let collection = JWTKeyCollection()
        try await key.addTo(collection)
        return try await collection.sign(
            Claims(values: claims), kid: JWKIdentifier(string: key.kid), header: ["typ": "JWT"])
    }

    /// Any claims, as a jwt-kit payload.
    struct Claims: JWTPayload {
        var values: [String: JSONValue]
        init(values: [String: JSONValue]) { self.values = values }
        init(from decoder: any Decoder) throws {
            values = try decoder.singleValueContainer().decode([String: JSONValue].self)
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(values)
        }
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A JWKS document holding `keys`.
    static func jwks(_ keys: [JSONValue]) -> JSONValue {
        .object(["keys": .array(keys)])
    }

    /// Valid ID token claims for `clientID` at `now`, ready for a test to spoil one of them.
    static func claims(
        issuer: String,
        clientID: String = HostileIdP.clientID,
        nonce: String? = HostileIdP.nonce,
        now: Date = HostileIdP.now,
        subject: String = "user-42"
    ) -> [String: JSONValue] {
        let seconds = now.timeIntervalSince1970.rounded(.down)
        var claims: [String: JSONValue] = [
            "iss": .string(issuer),
            "sub": .string(subject),
            "aud": .string(clientID),
            "iat": .number(seconds),
            "exp": .number(seconds + 300),
        ]
        if let nonce { claims["nonce"] = .string(nonce) }
        return claims
    }

    /// `at_hash` for `accessToken` under a SHA-256 algorithm (OIDC Core §3.1.3.6).
    static func accessTokenHash(_ accessToken: String) -> String {
        base64URL(Array(SHA256.hash(data: Array(accessToken.utf8))).prefix(16))
    }

    /// A JSON array of strings.
    static func strings(_ values: [String]) -> JSONValue {
        .array(values.map(JSONValue.string))
    }

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecode(_ text: some StringProtocol) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
