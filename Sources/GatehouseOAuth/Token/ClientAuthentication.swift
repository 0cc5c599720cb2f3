import Foundation
public import JWTKit

/// How the client proves its identity at the token, revocation and introspection endpoints
/// (RFC 6749 §2.3, OpenID Connect Core §9).
public struct ClientAuthentication: Sendable {
    enum Method: Sendable {
        case clientSecretBasic(String)
        case clientSecretPost(String)
        /// Basic or post, as the provider's metadata says.
        case clientSecret(String)
        case privateKeyJWT(PrivateKeyJWT)
        case none
    }

    let method: Method

    /// HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
    public static func clientSecretBasic(_ secret: String) -> Self { Self(method: .clientSecretBasic(secret)) }

    /// `client_id` and `client_secret` in the request body.
    public static func clientSecretPost(_ secret: String) -> Self { Self(method: .clientSecretPost(secret)) }

    /// A client secret sent the way the provider's metadata asks: `client_secret_basic` when
    /// `token_endpoint_auth_methods_supported` lists it or is absent (its default in OpenID
    /// Connect Discovery §3), else `client_secret_post` when listed.
    public static func clientSecret(_ secret: String) -> Self { Self(method: .clientSecret(secret)) }

    /// A JWT signed with the client's private key (RFC 7523 §2.2). `keys` must hold the signing
    /// key under `keyID`. The assertion's audience is the issuer identifier by default, as the
    /// current RFC 7523 update recommends; some older servers want the token endpoint URL.
    public static func privateKeyJWT(
        keys: JWTKeyCollection,
        keyID: String,
        audience: PrivateKeyJWT.Audience = .issuer,
        lifetime: Duration = .seconds(60)
    ) -> Self {
        Self(method: .privateKeyJWT(PrivateKeyJWT(keys: keys, keyID: keyID, audience: audience, lifetime: lifetime)))
    }

    /// A JWT signed with `key` (RFC 7523 §2.2), audience as above.
    public static func privateKeyJWT(
        key: ClientSigningKey, audience: PrivateKeyJWT.Audience = .issuer, lifetime: Duration = .seconds(60)
    ) -> Self {
        Self(
            method: .privateKeyJWT(
                PrivateKeyJWT(keys: JWTKeyCollection(), keyID: key.keyID, audience: audience, lifetime: lifetime, key: key)))
    }

    /// A public client: `client_id` only (PKCE is then its only protection).
    public static let none = Self(method: .none)

    /// The metadata name (`client_secret_basic`, …).
    public var methodName: String {
        switch method {
        case .clientSecretBasic: "client_secret_basic"
        case .clientSecretPost: "client_secret_post"
        case .clientSecret: "client_secret_basic or client_secret_post (from the provider's metadata)"
        case .privateKeyJWT: "private_key_jwt"
        case .none: "none"
        }
    }

    /// Adds the credentials to a request's form and headers.
    func apply(
        clientID: String,
        metadata: ProviderMetadata,
        now: Date,
        form: inout [(String, String?)],
        headers: inout [(String, String)]
    ) async throws(OAuthError) {
        switch method {
        case .clientSecret(let secret):
            let resolved = ClientAuthentication(
                method: Self.secretMethod(secret, supported: metadata.tokenEndpointAuthMethodsSupported))
            try await resolved.apply(clientID: clientID, metadata: metadata, now: now, form: &form, headers: &headers)
        case .clientSecretBasic(let secret):
            // RFC 6749 §2.3.1: form-encode both before joining, so ':' in an id is unambiguous.
            let credentials = FormEncoding.escape(clientID) + ":" + FormEncoding.escape(secret)
            headers.append(("Authorization", "Basic " + Data(credentials.utf8).base64EncodedString()))
        case .clientSecretPost(let secret):
            form.append(("client_id", clientID))
            form.append(("client_secret", secret))
        case .privateKeyJWT(let signer):
            form.append(("client_id", clientID))
            form.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            form.append(("client_assertion", try await signer.assertion(clientID: clientID, metadata: metadata, now: now)))
        case .none:
            form.append(("client_id", clientID))
        }
    }
}

extension ClientAuthentication {
    /// `client_secret_basic` unless the provider lists methods without it and with
    /// `client_secret_post`.
    static func secretMethod(_ secret: String, supported: [String]?) -> Method {
        guard let supported, !supported.contains("client_secret_basic"), supported.contains("client_secret_post") else {
            return .clientSecretBasic(secret)
        }
        return .clientSecretPost(secret)
    }
}

/// The signer behind ``ClientAuthentication/privateKeyJWT(keys:keyID:audience:lifetime:)``.
public struct PrivateKeyJWT: Sendable {
    /// The `aud` of the client assertion.
    public enum Audience: Sendable {
        /// The authorization server's issuer identifier.
        case issuer
        /// The token endpoint URL (OpenID Connect Core §9's original wording).
        case tokenEndpoint
    }

    let keys: JWTKeyCollection
    let keyID: String
    let audience: Audience
    let lifetime: Duration
    /// Added to `keys` before signing (adding is asynchronous, making the client is not).
    var key: ClientSigningKey? = nil

    struct Claims: JWTPayload {
        var iss: String
        var sub: String
        var aud: String
        var jti: String
        var iat: Int
        var exp: Int
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func assertion(clientID: String, metadata: ProviderMetadata, now: Date) async throws(OAuthError) -> String {
        let issuedAt = Int(now.timeIntervalSince1970)
        let claims = Claims(
            iss: clientID,
            sub: clientID,
            aud: audience == .issuer ? metadata.issuer : metadata.tokenEndpoint,
            jti: SecureRandom.token(byteCount: 16),
            iat: issuedAt,
            exp: issuedAt + Int(lifetime.components.seconds))
        do {
            if let key { await key.add(to: keys) }
            return try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
        } catch {
            throw OAuthError(.invalidConfiguration, "the private_key_jwt assertion could not be signed with key \(keyID)")
        }
    }
}
