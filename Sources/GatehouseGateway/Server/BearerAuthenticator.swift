import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import Hummingbird
import Logging

/// `GATEHOUSE_ALLOW_BEARER`: a request with `Authorization: Bearer <JWT>` is let through
/// without a cookie when the JWT is one the IdP signed for us — validated exactly as an ID
/// token without a nonce (OIDC Core §3.1.3.7: key from the IdP's JWKS, allowed `alg`, `iss`,
/// `aud` containing our client id and no untrusted audience, `azp`, `exp`/`nbf`/`iat` with
/// the clock skew, a `sub`) — and its identity passes the access rules.
///
/// A token with an `events` claim (a back-channel logout token, a security event) is refused:
/// it is signed for our client id too, but it is not a credential. A bearer that fails gets
/// `401` JSON with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3); an identity
/// the access rules refuse gets `403`. Either way no cookie session is consulted: an explicit
/// credential that fails is never silently replaced by another.
struct BearerAuthenticator: Sendable {
    let client: OAuthClient
    let rules: AccessRules
    let logger: Logger

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
        let idToken: IDToken
        do {
            idToken = try await client.validateIDToken(token, nonce: nil)
        } catch {
            logger.notice("bearer token refused", metadata: ["reason": "\(error.code)"])
            return .refused(Self.invalidToken(error.message))
        }
        guard idToken.claims.all["events"] == nil else {
            logger.notice("bearer token refused", metadata: ["reason": "event_token"])
            return .refused(Self.invalidToken("the token is a security event token, not a credential"))
        }
        let identity = Identity(idToken: idToken)
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
