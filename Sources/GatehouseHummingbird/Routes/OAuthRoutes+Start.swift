import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Logging

extension OAuthRoutes {
    /// `GET /oauth2/start?rd=/path`: a new pending authorization (state, nonce, PKCE) kept
    /// server-side, a binding cookie for this browser, and a `302` to the IdP.
    ///
    /// Each login in flight has its own binding cookie (named after its state's hash), so
    /// several tabs can sign in at once; at most ``AuthSettings/maxLoginsInFlight`` per browser.
    /// A browser that keeps coming back here is stopped by ``LoginLoopGuard``.
    func start(_ request: Request, context: Context) async -> Response {
        let returnPath = ReturnPath.sanitize(request.uri.queryParameters["rd"].map(String.init))
        let now = auth.store.clock.now
        let loop = LoginLoopGuard(
            cookieValue: request.cookies[auth.cookies.loopName]?.value, now: now, window: auth.settings.loopWindow)
        guard loop.count < auth.settings.loopThreshold else {
            auth.logger.warning(
                "redirect loop: sign-in stopped", metadata: ["starts": "\(loop.count)"])
            AuthMetrics.login(.redirectLoop)
            return Self.page(
                LoginLoopGuard.page(count: loop.count, returnPath: returnPath),
                cookies: [auth.cookies.loop(value: "", maxAge: 0)])
        }
        let loopCookie = auth.cookies.loop(
            value: loop.cookieValue, maxAge: loop.secondsLeft(now: now, window: auth.settings.loopWindow))
        let inFlight = auth.cookies.bindingNames(in: request)
        guard inFlight.count < auth.settings.maxLoginsInFlight else {
            auth.logger.notice("too many logins in flight in one browser", metadata: ["count": "\(inFlight.count)"])
            AuthMetrics.login(.tooManyInFlight)
            return Self.page(
                Page(
                    status: .tooManyRequests, title: "Too many sign-ins in progress",
                    message: "This browser has started too many sign-ins that have not finished. "
                        + "Finish one of them, or wait ten minutes and try again.",
                    category: "too_many_logins"))
        }
        let authorization: AuthorizationRequest
        do {
            authorization = try await auth.client.authorizationRequest()
        } catch {
            auth.logger.error("cannot start a login", metadata: ["error": "\(error.code)"])
            AuthMetrics.login(.idpUnavailable)
            return Self.page(
                Page(
                    status: .badGateway, title: "Sign-in unavailable",
                    message: "The identity provider cannot be reached right now. Please try again in a moment.",
                    category: error.code.rawValue))
        }
        let bindingValue = SessionID.generate().value
        do {
            try await auth.store.savePending(
                authorization.pending, bindingValue: bindingValue, returnPath: returnPath,
                provider: auth.providerName)
        } catch {
            auth.logger.error("cannot store a pending login", metadata: ["error": "\(AuthService.errorCode(error))"])
            return Self.storeUnavailable
        }
        let cookie = auth.cookies.binding(
            name: auth.cookies.bindingName(forState: authorization.pending.state), value: bindingValue,
            maxAge: Int(auth.settings.loginLifetime.components.seconds))
        AuthMetrics.login(.started)
        return Self.redirect(to: authorization.url.absoluteString, cookies: [cookie, loopCookie])
    }
}
