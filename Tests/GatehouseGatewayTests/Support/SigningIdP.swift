import Crypto
import Foundation
import GatehouseOAuth
import Hummingbird

/// A tiny OpenID provider on 127.0.0.1 that publishes discovery and a JWKS with one ES256 key,
/// and mints whatever tokens a test needs (logout tokens, bearer JWTs, spoiled variants) —
/// what django-oauth-toolkit cannot send.
struct SigningIdP: Sendable {
    let issuer: String
    let key: P256.Signing.PrivateKey

    static let keyID = "gateway-test-es256"
    static let clientID = "gatehouse-signing-test"
    static let clientSecret = "signing-test-secret"
    static let logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

    /// Runs the IdP for the duration of `body`.
    static func with<T: Sendable>(_ body: (SigningIdP) async throws -> T) async throws -> T {
        let port = try TestServer.freePort()
        let idp = SigningIdP(issuer: "http://127.0.0.1:\(port)", key: P256.Signing.PrivateKey())
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ in json(idp.discovery) }
        router.get("/jwks") { _, _ in json(.object(["keys": .array([idp.publicJWK])])) }
        return try await TestServer.run(
            { onRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
            }, { _ in try await body(idp) })
    }

    var discovery: JSONValue {
        .object([
            "issuer": .string(issuer),
            "authorization_endpoint": .string(issuer + "/authorize"),
            "token_endpoint": .string(issuer + "/token"),
            "jwks_uri": .string(issuer + "/jwks"),
            "response_types_supported": .array([.string("code")]),
            "subject_types_supported": .array([.string("public")]),
            "id_token_signing_alg_values_supported": .array([.string("ES256")]),
            "backchannel_logout_supported": .bool(true),
            "backchannel_logout_session_supported": .bool(true),
        ])
    }

    var publicJWK: JSONValue {
        let point = Array(key.publicKey.x963Representation)  // 0x04 || x || y
        return .object([
            "kty": .string("EC"), "crv": .string("P-256"), "use": .string("sig"), "alg": .string("ES256"),
            "kid": .string(Self.keyID), "x": .string(Self.base64URL(point[1..<33])),
            "y": .string(Self.base64URL(point[33..<65])),
        ])
    }

    /// A compact JWS of `claims`, ES256, signed by `signer` (default: the published key).
    func token(
        _ claims: [String: JSONValue], typ: String? = "logout+jwt", kid: String = SigningIdP.keyID,
        signer: P256.Signing.PrivateKey? = nil
    ) throws -> String {
        var header: [String: JSONValue] = ["alg": .string("ES256"), "kid": .string(kid)]
        if let typ { header["typ"] = .string(typ) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let input =
            Self.base64URL(try encoder.encode(JSONValue.object(header))) + "."
            + Self.base64URL(try encoder.encode(JSONValue.object(claims)))
        let signature = try (signer ?? key).signature(for: Array(input.utf8)).rawRepresentation
        return input + "." + Self.base64URL(signature)
    }

    /// Valid logout-token claims (Back-Channel Logout §2.4) for `sid` and/or `sub`.
    func logoutClaims(sid: String?, sub: String?, jti: String = UUID().uuidString) -> [String: JSONValue] {
        var claims = baseClaims()
        claims["jti"] = .string(jti)
        claims["events"] = .object([Self.logoutEvent: .object([:])])
        if let sid { claims["sid"] = .string(sid) }
        if let sub { claims["sub"] = .string(sub) }
        return claims
    }

    /// Valid claims of a bearer JWT for our client id.
    func bearerClaims(sub: String, email: String? = nil, username: String? = nil, groups: [String] = [])
        -> [String: JSONValue]
    {
        var claims = baseClaims()
        claims["sub"] = .string(sub)
        if let email { claims["email"] = .string(email) }
        if let username { claims["preferred_username"] = .string(username) }
        if !groups.isEmpty { claims["groups"] = .array(groups.map(JSONValue.string)) }
        return claims
    }

    private func baseClaims() -> [String: JSONValue] {
        let now = Date().timeIntervalSince1970.rounded(.down)
        return [
            "iss": .string(issuer), "aud": .string(Self.clientID), "iat": .number(now), "exp": .number(now + 120),
        ]
    }

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func json(_ value: JSONValue) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        response.headers[.contentType] = "application/json"
        return response
    }
}
