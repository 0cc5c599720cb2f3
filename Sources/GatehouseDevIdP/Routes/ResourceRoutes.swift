import Foundation
import Hummingbird

/// Userinfo (OIDC Core §5.3) and token revocation (RFC 7009).
struct ResourceRoutes: Sendable {
    let idp: IdentityProvider

    func register(on router: Router<IdPRequestContext>) {
        router.get("/userinfo") { request, _ in await userInfo(request) }
        router.post("/userinfo") { request, _ in await userInfo(request) }
        router.post("/revoke") { request, _ in try await revoke(request) }
    }

    /// The claims of the access token's user, as its scopes allow. A missing, unknown,
    /// expired or revoked token gets `401` with `WWW-Authenticate: Bearer` (RFC 6750 §3).
    ///
    /// A DPoP-bound token (RFC 9449 §7) must come as `Authorization: DPoP` with a proof of its
    /// key for this request (`ath` included): as a bearer token it is refused.
    func userInfo(_ request: Request) async -> Response {
        guard let header = request.headers[.authorization] else { return unauthorized(nil) }
        let lowered = header.lowercased()
        let isDPoP = lowered.hasPrefix("dpop ")
        guard isDPoP || lowered.hasPrefix("bearer ") else { return unauthorized(nil) }
        let token = String(header.dropFirst(isDPoP ? 5 : 7)).trimmingCharacters(in: .whitespaces)
        guard let family = await idp.state.accessToken(token, now: idp.now), let user = idp.user(subject: family.subject)
        else {
            return unauthorized("invalid_token")
        }
        if let bound = family.dpopKeyThumbprint {
            guard isDPoP else { return unauthorized("invalid_token", scheme: "DPoP") }
            let method = request.method == .post ? "POST" : "GET"
            do {
                let proven = try await DPoPVerifier.verify(
                    request, method: method, url: idp.issuer + "/userinfo", accessToken: token, idp: idp)
                guard proven == bound else { return unauthorized("invalid_dpop_proof", scheme: "DPoP") }
            } catch {
                var response = unauthorized(error.error, scheme: "DPoP")
                if let name = HTTPFields.Element.Name("DPoP-Nonce") {
                    response.headers[name] = await idp.state.currentDPoPNonce(now: idp.now)
                }
                return response
            }
        } else if isDPoP {
            return unauthorized("invalid_token")
        }
        var claims = TokenClaims(issuer: idp.issuer, subject: user.subject, audience: family.clientID, issuedAt: 0, lifetime: .zero)
        claims.addUserClaims(user, scopes: Set(family.scopes))
        return Responses.json(encoding: UserInfo(claims))
    }

    /// RFC 7009 §2: `200` whether or not the token was known; a token of another client is
    /// left alone.
    func revoke(_ request: Request) async throws -> Response {
        let (form, client): (FormData, RegisteredClient)
        switch try await ClientAuthenticator.authenticatedForm(request, idp: idp) {
        case .accepted(let accepted, let authenticated): (form, client) = (accepted, authenticated)
        case .refused(let refusal): return refusal
        }
        guard let token = form["token"] else { return Responses.oauthError("invalid_request", "token is missing") }
        await idp.state.revoke(token, clientID: client.id)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    private func unauthorized(_ error: String?, scheme: String = "Bearer") -> Response {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = error.map { "\(scheme) error=\"\($0)\"" } ?? scheme
        headers[.cacheControl] = "no-store"
        return Response(status: .unauthorized, headers: headers)
    }

    /// The userinfo document: `sub` and the scoped user claims (no token-only claims).
    struct UserInfo: Encodable {
        var sub: String
        var email: String?
        var emailVerified: Bool?
        var name: String?
        var preferredUsername: String?
        var groups: [String]?

        init(_ claims: TokenClaims) {
            sub = claims.subject
            email = claims.email
            emailVerified = claims.emailVerified
            name = claims.name
            preferredUsername = claims.preferredUsername
            groups = claims.groups
        }

        enum CodingKeys: String, CodingKey {
            case sub, email, emailVerified = "email_verified", name, preferredUsername = "preferred_username", groups
        }
    }
}
