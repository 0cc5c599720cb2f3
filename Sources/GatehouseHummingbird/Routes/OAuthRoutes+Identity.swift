import Foundation
import GatehouseOAuth
import GatehouseStore
import Hummingbird

extension OAuthRoutes {
    /// `GET /oauth2/auth`, for nginx `auth_request` and other forward-auth proxies: `202` with
    /// the identity headers, or `401`.
    func forwardAuth(_ request: Request, context: Context) async throws -> Response {
        var context = context
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        guard let session = try await auth.session(for: request, context: &context) else {
            return Response(status: .unauthorized, headers: headers)
        }
        for (name, value) in IdentityHeaders.values(for: session.identity, provider: session.provider) {
            headers[name] = value
        }
        return Response(status: .accepted, headers: headers)
    }

    /// `GET /oauth2/userinfo`: who is signed in, as JSON for a front end, or `401` JSON with a
    /// `login_url`.
    func userInfo(_ request: Request, context: Context) async throws -> Response {
        if let name = auth.settings.csrfHeader, !CSRFHeader.isPresent(name, in: request.headers) {
            auth.logger.notice("userinfo without the CSRF header refused")
            return CSRFHeader.refusal(name)
        }
        var context = context
        guard let session = try await auth.session(for: request, context: &context) else {
            return JSONResponse.unauthenticated(returnPath: "/")
        }
        let identity = session.identity
        let body = UserInfoBody(
            subject: identity.subject, provider: session.provider, email: identity.email, name: identity.name,
            preferredUsername: identity.preferredUsername, groups: identity.groups,
            sessionExpiresAt: min(session.idleExpiresAt, session.absoluteExpiresAt),
            signOutURL: "/oauth2/sign_out")
        return JSONResponse.make(body, status: .ok)
    }
}

/// The JSON of `/oauth2/userinfo`.
struct UserInfoBody: Encodable {
    var subject: String
    /// The id of the provider the session came from.
    var provider: String
    var email: String?
    var name: String?
    var preferredUsername: String?
    var groups: [String]
    var sessionExpiresAt: Date
    var signOutURL: String

    enum CodingKeys: String, CodingKey {
        case subject, provider, email, name, groups
        case preferredUsername = "preferred_username"
        case sessionExpiresAt = "session_expires_at"
        case signOutURL = "sign_out_url"
    }
}
