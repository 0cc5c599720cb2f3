import Foundation
import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Logging

extension OAuthRoutes {
    /// The most of a browser's logins one start gives up (a client sending hundreds of binding
    /// cookies costs the store no more than this per request).
    static var maximumGivenUpPerStart: Int { 4 }

    /// `GET /oauth2/start?rd=/path[&provider=ID][&prompt=none]`: a new pending authorization
    /// (state, nonce, PKCE) kept server-side and bound to its provider, a binding cookie for
    /// this browser, and a `302` to the IdP. Without `provider` and with several allowed for
    /// `rd`, the chooser page (``ProviderChoice``); `prompt=none` asks for a silent login.
    ///
    /// Each login in flight has its own binding cookie (named after its state's hash), so
    /// several tabs can sign in at once. Beyond ``AuthSettings/maxLoginsInFlight`` the
    /// browser's oldest login is given up (its pending authorization deleted, its cookie
    /// cleared), and so it is when a cap of ``AuthSettings/pendingLimits`` is reached and the
    /// browser has a login of its own to give up; otherwise a cap answers `429` with
    /// `Retry-After`. A browser that keeps bouncing back here is stopped by ``LoginLoopGuard``.
    func start(_ request: Request, context: Context) async -> Response {
        let query = request.uri.queryParameters
        if let hop = hopToPublicHost(request) { return hop }
        let settings = auth.settings
        let returnPath = ReturnPath.sanitize(
            query["rd"].map(String.init), scheme: settings.publicScheme, hosts: settings.signInHosts)
        let prompt = query["prompt"].map(String.init)
        if let prompt, prompt != "none" {
            return Self.page(
                Page(
                    status: .badRequest, title: "Bad sign-in link", message: "The only prompt a sign-in link may ask for is none.",
                    category: "invalid_prompt"))
        }
        let requirements = auth.loginRequirements(request, context.peerIP, returnPath)
        let provider: LoginProvider
        switch ProviderChoice.make(
            requested: query["provider"].map(String.init), returnPath: returnPath, requirements: requirements, auth: auth)
        {
        case .provider(let chosen): provider = chosen
        case .chooser(let providers):
            return Self.page(ProviderChoice.chooserPage(providers, returnPath: returnPath, prompt: prompt))
        case .refused(let page):
            auth.logger.notice("login start refused", metadata: ["reason": "\(page.category ?? "-")"])
            return Self.page(page)
        }
        let now = auth.store.clock.now
        var cookies: [Cookie] = []
        var loop = LoginLoopGuard(
            cookieValue: request.cookies[auth.cookies.loopName]?.value, now: now, window: auth.settings.loopWindow)
        if loop.recordStart(now: now, bounceInterval: auth.settings.loopBounceInterval) {
            guard loop.bounces < auth.settings.loopThreshold else {
                auth.logger.warning("redirect loop: sign-in stopped", metadata: ["bounces": "\(loop.bounces)"])
                AuthMetrics.login(.redirectLoop)
                return Self.page(
                    LoginLoopGuard.page(bounces: loop.bounces, returnPath: returnPath),
                    cookies: [auth.cookies.loop(value: "", maxAge: 0)])
            }
            cookies.append(
                auth.cookies.loop(
                    value: loop.cookieValue, maxAge: loop.secondsLeft(now: now, window: auth.settings.loopWindow)))
        }
        let limiter = auth.loginLimiter
        let client = limiter.limits.clientAddress(request, context.peerIP).map { ClientAddressKey.key(for: $0) ?? $0 }
        var inFlight = auth.cookies.bindings(in: request)[...]
        // Room for this login in the browser's cookies.
        let excess = inFlight.count - (auth.settings.maxLoginsInFlight - 1)
        for binding in inFlight.prefix(min(max(0, excess), Self.maximumGivenUpPerStart)) {
            cookies.append(await giveUp(binding))
            inFlight.removeFirst()
        }
        await limiter.refreshIfDue(store: auth.store, logger: auth.logger)
        var admission = limiter.admission(client: client, now: now)
        if admission != .admitted, let oldest = inFlight.first {
            // At a cap: a browser with logins of its own swaps its oldest for this one.
            cookies.append(await giveUp(oldest))
            admission = limiter.admission(client: client, now: now)
        }
        guard admission == .admitted else {
            return tooManyLogins(request, admission: admission, client: client, now: now)
        }
        let authorization: AuthorizationRequest
        do {
            var parameters = provider.authorizationParameters
            if let prompt { parameters.prompt = prompt }
            if !requirements.acrValues.isEmpty { parameters.acrValues = requirements.acrValues }
            if let maxAge = requirements.maxAge { parameters.maxAge = maxAge }
            authorization = try await provider.client.authorizationRequest(parameters)
        } catch {
            auth.logger.error("cannot start a login", metadata: ["error": "\(error.code)", "provider": "\(provider.id)"])
            AuthMetrics.login(.idpUnavailable)
            return Self.page(
                Page(
                    status: .badGateway, title: "Sign-in unavailable",
                    message: "The identity provider cannot be reached right now. Please try again in a moment.",
                    category: error.code.rawValue))
        }
        var conditions = LoginConditions(
            acrValues: requirements.acrValues, maxAge: requirements.maxAge, silent: prompt == "none")
        if !requirements.acrValues.isEmpty || requirements.maxAge != nil,
            let current = try? await auth.session(for: request), current.provider == provider.id
        {
            // A step-up of this session: it must come back as the same person.
            conditions.subject = current.identity.subject
        }
        let bindingValue = AuthCookies.newBindingValue(now: now)
        do {
            try await auth.store.savePending(
                authorization.pending, bindingValue: bindingValue, returnPath: returnPath,
                provider: provider.id, conditions: conditions)
        } catch {
            auth.logger.error("cannot store a pending login", metadata: ["error": "\(AuthService.errorCode(error))"])
            return Self.storeUnavailable
        }
        let stateHash = SessionHash(of: authorization.pending.state)
        limiter.started(
            key: PendingLoginLimiter.key(stateHashPrefix: stateHash.bytes), client: client,
            expiresAt: now.addingTimeInterval(TimeInterval(auth.store.configuration.pendingLifetime.components.seconds)))
        let cookie = auth.cookies.binding(
            name: auth.cookies.bindingName(forState: authorization.pending.state), value: bindingValue,
            maxAge: Int(auth.settings.loginLifetime.components.seconds))
        AuthMetrics.login(.started)
        return Self.redirect(to: authorization.url.absoluteString, cookies: [cookie] + cookies)
    }

    /// With several hosts sharing the session cookie: a start on another host than the public
    /// URL's hops there first (the binding cookie and the callback live there), its `rd` made
    /// absolute on the host it came from when that host is one of ``AuthSettings/signInHosts``.
    private func hopToPublicHost(_ request: Request) -> Response? {
        let settings = auth.settings
        guard settings.cookieDomain != nil, let here = request.head.authority?.lowercased() else { return nil }
        let publicAuthority = String(settings.publicOrigin.dropFirst(settings.publicScheme.count + 3))
        guard here != publicAuthority else { return nil }
        let query = request.uri.queryParameters
        var target = query["rd"].map(String.init) ?? "/"
        if target.hasPrefix("/") {
            target = ReturnPath.isListed(here, in: settings.signInHosts)
                ? settings.publicScheme + "://" + here + ReturnPath.sanitize(target) : "/"
        }
        var location = settings.publicURL + "/oauth2/start?"
        for name in ["provider", "prompt"] {
            if let value = query[Substring(name)] { location += name + "=" + PercentEncoding.encode(String(value)) + "&" }
        }
        location += "rd=" + PercentEncoding.encode(target)
        return Self.redirect(to: location, cookies: [])
    }

    /// Gives up one of the browser's logins: deletes its pending authorization (when this
    /// browser's binding matches) and returns the cookie that clears its binding.
    private func giveUp(_ binding: BindingCookie) async -> Cookie {
        if let prefix = binding.stateHashPrefix,
            (try? await auth.store.discardPending(stateHashPrefix: prefix, bindingValue: binding.value)) == true
        {
            auth.loginLimiter.ended(key: PendingLoginLimiter.key(stateHashPrefix: prefix))
        }
        AuthMetrics.login(.givenUp)
        return auth.cookies.clearBinding(name: binding.name)
    }

    /// `429` with `Retry-After`: a page for navigations, JSON otherwise; logged (at most one
    /// line a second, with the number of refusals since the last).
    private func tooManyLogins(
        _ request: Request, admission: PendingLoginLimiter.Admission, client: String?, now: Date
    ) -> Response {
        let perClient = admission == .clientLimit
        if let refused = auth.loginLimiter.refusalToLog(now: now) {
            auth.logger.notice(
                "login refused: too many logins in flight",
                metadata: [
                    "limit": "\(perClient ? "per_client" : "global")", "client": "\(client ?? "-")",
                    "refused": "\(refused)",
                ])
        }
        AuthMetrics.login(.tooManyPending)
        let message =
            perClient
            ? "Too many sign-ins have been started from your network without finishing. Please wait a moment and try again."
            : "Too many sign-ins are in progress right now. Please wait a moment and try again."
        var response: Response
        if LoginChallenge.isNavigation(request) {
            response = Page(
                status: .tooManyRequests, title: "Too many sign-ins in progress", message: message,
                category: "too_many_logins"
            ).response()
        } else {
            response = JSONResponse.oauthError("too_many_logins", description: message, status: .tooManyRequests)
        }
        response.headers[.retryAfter] = String(max(1, auth.loginLimiter.limits.retryAfter.components.seconds))
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
