import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import Hummingbird
import Logging

/// `GATEHOUSE_ALLOW_BEARER`: a request with `Authorization: Bearer <JWT>` is let through
/// without a cookie when the JWT is an access token the IdP signed for us — validated as a
/// resource server validates a JWT access token (RFC 9068 §4, ``AccessTokenVerifier``): `typ`
/// `at+jwt`, a key from the IdP's JWKS (an unknown `kid` refetches it only within the budget
/// shared with logout tokens, so random kids never hold up a login), an allowed `alg`, `iss`,
/// an `aud` among `GATEHOUSE_BEARER_AUDIENCE` (default: our client id), `exp`/`nbf`/`iat` with
/// the clock skew, a `sub` — and its identity passes the access rules.
///
/// ID tokens are never accepted: they are not credentials (OIDC Core §2), and sign-out puts
/// the session's ID token in the IdP's end-session URL (`id_token_hint`), where browser
/// history and logs keep it. So a token without the `at+jwt` type, or shaped like an ID token
/// (a `nonce`, an `at_hash`, only its `azp` as audience), is refused; so is one with an
/// `events` claim (a security event token). A bearer that fails gets `401` JSON with
/// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3); an identity the access
/// rules refuse gets `403`. Either way no cookie session is consulted: an explicit credential
/// that fails is never silently replaced by another.
struct BearerAuthenticator: Sendable {
    let client: OAuthClient
    /// The accepted `aud` values; never empty.
    let audiences: Set<String>
    let rules: AccessRules
    let logger: Logger

    /// `audiences` empty means our client id.
    init(client: OAuthClient, audiences: [String], rules: AccessRules, logger: Logger) {
        self.client = client
        self.audiences = audiences.isEmpty ? [client.configuration.clientID] : Set(audiences)
        self.rules = rules
        self.logger = logger
    }

    enum Outcome: Sendable {
        case accepted(Identity)
        case refused(Response)
    }

    /// The token of a single `Authorization: Bearer …` header (scheme case-insensitive, RFC 9110
    /// §11.1); `nil` when there is none or it uses another scheme. Several `Authorization`
    /// headers yield an empty token, which fails validation.
    static func token(in request: Request) -> String? {
        let values = request.headers[values: .authorization]
        guard let value = values.first else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count >= 1, parts[0].lowercased() == "bearer" else { return nil }
        guard values.count == 1, parts.count == 2 else { return "" }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    func authenticate(_ token: String) async -> Outcome {
        let accessToken: JWTAccessToken
        do {
            accessToken = try await client.validateAccessToken(token, audiences: audiences)
        } catch {
            logger.notice("bearer token refused", metadata: ["reason": "\(error.code)"])
            return .refused(Self.invalidToken(error.message))
        }
        guard accessToken.claims.all["events"] == nil else {
            logger.notice("bearer token refused", metadata: ["reason": "event_token"])
            return .refused(Self.invalidToken("the token is a security event token, not a credential"))
        }
        var identity = Identity(accessToken: accessToken, emailVerification: client.provider.emailVerification)
        identity.retain(client.configuration.retainedClaims, from: accessToken.claims.all)
        if let refusal = rules.check(identity) {
            logger.notice(
                "bearer token refused by the access rules",
                metadata: ["rule": "\(refusal.rawValue)", "subject": "\(identity.subject)"])
            return .refused(Self.json(["error": "access_denied", "error_description": refusal.rawValue], status: .forbidden))
        }
        return .accepted(identity)
    }

    static func invalidToken(_ description: String) -> Response {
        var response = json(["error": "invalid_token", "error_description": description], status: .unauthorized)
        response.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
        return response
    }

    static func json(_ fields: [String: String], status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(fields)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
