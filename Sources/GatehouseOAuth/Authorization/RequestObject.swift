import Foundation
import JWTKit

/// A signed authorization request (RFC 9101, JAR): every parameter of the request as a claim,
/// with `iss` (the client id), `aud` (the provider's issuer), `iat`, `nbf`, `exp` and `jti`,
/// signed with the client's `private_key_jwt` key and typed `oauth-authz-req+jwt` (§10.8).
/// The provider uses the parameters inside only, so none can be changed on the way.
struct RequestObjectClaims: JWTPayload {
    var parameters: [(String, String)]
    var issuer: String
    var audience: String
    var issuedAt: Int
    var lifetime: Int
    var tokenID: String

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(parameters: [(String, String)], issuer: String, audience: String, issuedAt: Int, lifetime: Int, tokenID: String) {
        self.parameters = parameters
        self.issuer = issuer
        self.audience = audience
        self.issuedAt = issuedAt
        self.lifetime = lifetime
        self.tokenID = tokenID
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        let reserved: Set<String> = ["iss", "aud", "iat", "nbf", "exp", "jti"]
        for (name, value) in parameters where !reserved.contains(name) {
            try container.encode(value, forKey: Key(stringValue: name))
        }
        try container.encode(issuer, forKey: Key(stringValue: "iss"))
        try container.encode(audience, forKey: Key(stringValue: "aud"))
        try container.encode(issuedAt, forKey: Key(stringValue: "iat"))
        try container.encode(issuedAt, forKey: Key(stringValue: "nbf"))
        try container.encode(issuedAt + lifetime, forKey: Key(stringValue: "exp"))
        try container.encode(tokenID, forKey: Key(stringValue: "jti"))
    }

    /// Only ever encoded here; a request object is the provider's to read.
    init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "request objects are only written"))
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

extension PrivateKeyJWT {
    /// The authorization request `parameters` as a request object for `metadata`'s provider.
    func requestObject(
        _ parameters: [(String, String)], clientID: String, metadata: ProviderMetadata, now: Date
    ) async throws(OAuthError) -> String {
        let claims = RequestObjectClaims(
            parameters: parameters, issuer: clientID, audience: metadata.issuer,
            issuedAt: Int(now.timeIntervalSince1970), lifetime: Int(lifetime.components.seconds),
            tokenID: SecureRandom.token(byteCount: 16))
        do {
            if let key { await key.add(to: keys) }
            var header = JWTHeader()
            header.typ = "oauth-authz-req+jwt"
            return try await keys.sign(claims, kid: JWKIdentifier(string: keyID), header: header)
        } catch {
            throw OAuthError(.invalidConfiguration, "the request object could not be signed with key \(keyID)")
        }
    }
}

extension ClientAuthentication {
    /// The `private_key_jwt` signer, when that is the method.
    var privateKeyJWT: PrivateKeyJWT? {
        if case .privateKeyJWT(let signer) = method { return signer }
        return nil
    }

    /// The algorithm a `private_key_jwt` ``ClientSigningKey`` signs with (`PS256`, …); `nil`
    /// for other methods or keys given as a key collection.
    public var signingAlgorithm: String? { privateKeyJWT?.key?.algorithm }
}
