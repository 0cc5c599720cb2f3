public import Hummingbird
import Logging

/// The `/oauth2/*` endpoints of DESIGN §1–§2 for any Hummingbird 2 application:
/// `start`, `callback`, `sign_out` (GET page, POST action), `auth` (forward-auth),
/// `userinfo`, `backchannel-logout` (POST only) and `frontchannel-logout` (GET).
///
/// Every answer carries `Cache-Control: no-store`; the login endpoints also
/// `Referrer-Policy: no-referrer`, so neither a code nor a state leaks through a `Referer`.
public struct OAuthRoutes<Context: SessionRequestContext>: Sendable {
    let auth: AuthService

    public init(_ auth: AuthService) {
        self.auth = auth
    }

    /// Adds the endpoints to `router`.
    public func register(on router: Router<Context>) {
        router.get("/oauth2/start") { request, context in
            await self.start(request, context: context)
        }
        router.get("/oauth2/callback") { request, context in
            await self.callback(request, context: context, providerID: LoginProvider.defaultID)
        }
        router.get("/oauth2/callback/:provider") { request, context in
            // An id that is no provider's matches no pending login's provider: refused there.
            let id = context.parameters.get("provider") ?? ""
            return await self.callback(request, context: context, providerID: id)
        }
        router.get("/oauth2/sign_out") { _, _ in
            Page.signOut().response()
        }
        router.head("/oauth2/sign_out") { _, _ in
            Page.signOut().response().createHeadResponse()
        }
        router.post("/oauth2/sign_out") { request, context in
            await self.signOut(request, context: context)
        }
        router.get("/oauth2/auth") { request, context in
            try await self.forwardAuth(request, context: context)
        }
        router.head("/oauth2/auth") { request, context in
            try await self.forwardAuth(request, context: context).createHeadResponse()
        }
        router.get("/oauth2/userinfo") { request, context in
            try await self.userInfo(request, context: context)
        }
        router.head("/oauth2/userinfo") { request, context in
            try await self.userInfo(request, context: context).createHeadResponse()
        }
        // HEAD must not start or finish a login (a link checker or prefetcher would).
        for path in ["/oauth2/start", "/oauth2/callback", "/oauth2/callback/:provider"] {
            router.head(RouterPath(path)) { _, _ in
                var response = JSONResponse.oauthError(
                    "invalid_request", description: "use GET", status: .methodNotAllowed)
                response.headers[.allow] = "GET"
                return response
            }
        }
        router.get("/oauth2/frontchannel-logout") { request, context in
            await self.frontchannelLogout(request, context: context)
        }
        router.post("/oauth2/backchannel-logout") { request, context in
            await self.backchannelLogout(request, context: context)
        }
        for method in [HTTPRequest.Method.get, .head, .put, .delete, .patch] {
            router.on("/oauth2/backchannel-logout", method: method) { _, _ in
                Self.backchannelLogoutMethodNotAllowed()
            }
        }
    }

    /// A `302` to `location` with the login endpoints' headers and `cookies`.
    static func redirect(to location: String, cookies: [Cookie]) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        headers[.referrerPolicy] = "no-referrer"
        var response = Response(status: .found, headers: headers)
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// `page` with `cookies` set.
    static func page(_ page: Page, cookies: [Cookie] = []) -> Response {
        self.page(page.response(), cookies: cookies)
    }

    /// `response` with `cookies` set.
    static func page(_ response: Response, cookies: [Cookie]) -> Response {
        var response = response
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// The page shown when the session store cannot be reached.
    static var storeUnavailable: Response {
        Page(
            status: .serviceUnavailable, title: "Sign-in unavailable",
            message: "Sessions cannot be stored right now. Please try again in a moment.",
            category: "store_unavailable"
        ).response()
    }
}
