import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import Hummingbird

/// Which route takes a request and who may reach it there: the one admission function,
/// shared by plain requests (``GatewayMiddleware``), the direct path (``DirectProxy``, which
/// asks ``selectRoute(authority:path:method:)`` and ``admits(_:provider:onRoute:)``) and WebSocket
/// handshakes (``WebSocketPassThrough``).
///
/// First the route (``RouteTable``: `404` for none, `405` for a method it does not take,
/// `400` for a path that reads as different routes), then the principal: a valid bearer JWT
/// (only with `GATEHOUSE_ALLOW_BEARER`), else a session, else — on a `skip_auth` route or a
/// `GATEHOUSE_SKIP_AUTH_ROUTES` prefix — anybody; a signed-in principal must come from one of
/// the route's `providers` (else a new login) and pass its `allow` rules (`403`).
struct RequestAdmission: Sendable {
    enum Decision: Sendable {
        /// Forward on behalf of this principal to this route's upstream (index into the table).
        case proxy(ProxyPrincipal, route: Int)
        /// Answer with this instead (a login challenge, a refused bearer token, a refusal).
        case answer(Response)
    }

    let auth: AuthService
    let routes: RouteTable
    let skipAuthRoutes: SkipAuthRoutes
    /// `nil` unless `GATEHOUSE_ALLOW_BEARER` is on.
    let bearer: BearerAuthenticator?
    /// `GATEHOUSE_PROXY_CSRF`: unsafe methods with a session must come from our origin.
    let checksCrossSite: Bool
    /// Whose `X-Forwarded-Host` names the authority routes are matched on.
    let trustedProxies: TrustedProxies
    /// The header routes with `require_csrf_header` require (value `1`).
    var csrfHeader = CSRFHeader.defaultName

    /// The route for a request to `authority` (``authority(host:forwardedHost:peerIP:)``), on
    /// the path ``RequestTarget`` decided.
    func selectRoute(authority: Substring?, path: Substring, method: String) -> RouteTable.Selection {
        routes.select(authority: authority, path: path, method: method)
    }

    /// The authority routes are matched on: `X-Forwarded-Host` (its first value) from a
    /// trusted proxy, else `Host`.
    func authority(host: Substring?, forwardedHost: Substring?, peerIP: String?) -> Substring? {
        Self.authority(routes: routes, trustedProxies: trustedProxies, host: host, forwardedHost: forwardedHost, peerIP: peerIP)
    }

    /// ``authority(host:forwardedHost:peerIP:)`` for `routes` and `trustedProxies`.
    static func authority(
        routes: RouteTable, trustedProxies: TrustedProxies, host: Substring?, forwardedHost: Substring?, peerIP: String?
    ) -> Substring? {
        guard routes.namesHosts else { return host }
        if let forwardedHost, trustedProxies.trusts(peerIP) {
            return forwardedHost.prefix { $0 != "," }.drop { $0 == " " }
        }
        return host
    }

    /// The `route` label of a proxied request's answer (``Route/metricsLabel``; `proxy` when
    /// no route takes it).
    func metricsLabel(for request: Request, peerIP: String?) -> String {
        if routes.takesEverything { return routes.routes[0].metricsLabel }
        let authority = self.authority(
            host: request.head.authority.map { Substring($0) },
            forwardedHost: request.headers[.xForwardedHost].map { Substring($0) }, peerIP: peerIP)
        switch selectRoute(authority: authority, path: request.decidedPath, method: request.method.rawValue) {
        case .route(let index), .methodNotAllowed(let index): return routes.routes[index].metricsLabel
        case .noRoute, .ambiguous: return GatewayMetrics.proxyRoute
        }
    }

    /// Why a signed-in principal may not use a route.
    enum Refusal: Equatable {
        /// Its provider is not among the route's `providers`: sign in again with one that is.
        case provider
        /// It fails the route's `allow` rules: `403`.
        case rule(AccessRules.Refusal)
        /// Its authentication is weaker or older than the route's `acr_values`/`max_age`:
        /// step up (a new login at the same provider asking for them).
        case stepUp
    }

    /// Whether `identity`, from the provider `provider`, may use route `index` (`nil`), else
    /// why not: the route's `providers`, then its `allow` rules.
    func admits(_ identity: Identity, provider: String, onRoute index: Int) -> Refusal? {
        if let allowed = routes.providers[index], !allowed.contains(provider) { return .provider }
        if let refusal = routes.rules[index]?.check(identity) { return .rule(refusal) }
        if let stepUp = routes.stepUps[index], !stepUp.isSatisfied(by: identity, now: auth.store.clock.now) {
            return .stepUp
        }
        return nil
    }

    /// The answer to a principal that `refusal` keeps off route `index`: `403` for a rule; for
    /// a provider, a new login (straight to the route's provider when it allows one, else the
    /// chooser) for navigations and `401` JSON otherwise.
    func refuse(_ request: Request, onRoute index: Int, _ refusal: Refusal, provider: String? = nil) -> Response {
        let route = routes.routes[index]
        switch refusal {
        case .rule(let rule):
            return RouteRefusal.forbidden(request, route: route, refusal: rule, logger: auth.logger)
        case .provider:
            return RouteRefusal.wrongProvider(request, route: route, logger: auth.logger)
        case .stepUp:
            return RouteRefusal.stepUp(request, route: route, provider: provider, logger: auth.logger)
        }
    }

    /// Whether a request without a principal may reach `path` on route `index`.
    func isOpen(_ path: Substring, onRoute index: Int) -> Bool {
        routes.skipAuth[index] || skipAuthRoutes.matches(path)
    }

    /// The decision for `request`; `findSession` looks the session up (once).
    func decide(
        _ request: Request, peerIP: String?, findSession: () async throws -> Session?
    ) async throws -> Decision {
        let path = request.decidedPath
        let authority = self.authority(
            host: request.head.authority.map { Substring($0) },
            forwardedHost: request.headers[.xForwardedHost].map { Substring($0) }, peerIP: peerIP)
        let index: Int
        switch selectRoute(authority: authority, path: path, method: request.method.rawValue) {
        case .route(let chosen): index = chosen
        case .noRoute: return .answer(RouteRefusal.notFound(request, logger: auth.logger))
        case .ambiguous: return .answer(RouteRefusal.ambiguous(request, logger: auth.logger))
        case .methodNotAllowed(let chosen):
            return .answer(RouteRefusal.methodNotAllowed(request, route: routes.routes[chosen], logger: auth.logger))
        }
        if routes.requiresCSRFHeader[index], !CSRFHeader.isPresent(csrfHeader, in: request.headers) {
            auth.logger.notice("request without the CSRF header refused", metadata: ["route": "\(routes.routes[index].name)"])
            return .answer(CSRFHeader.refusal(csrfHeader))
        }
        if let bearer, let token = BearerAuthenticator.token(in: request) {
            switch await bearer.authenticate(token) {
            case .accepted(let identity):
                // Bearer tokens are validated by the first provider.
                if let refusal = admits(identity, provider: auth.providers[0].id, onRoute: index) {
                    return .answer(refuse(request, onRoute: index, refusal))
                }
                return .proxy(.bearer(identity), route: index)
            case .refused(let response): return .answer(response)
            }
        }
        let session = try await findSession()
        if let session {
            if checksCrossSite, OriginCheck.isUnsafe(request.method),
                !OriginCheck.isSameOrigin(request, accepting: auth.settings.isOwnOrigin)
            {
                auth.logger.notice("cross-site request refused", metadata: ["method": "\(request.method)"])
                return .answer(OriginCheck.refusal(for: request))
            }
            if let refusal = admits(session.identity, provider: session.provider, onRoute: index) {
                return .answer(refuse(request, onRoute: index, refusal, provider: session.provider))
            }
            return .proxy(.session(session), route: index)
        }
        if isOpen(path, onRoute: index) { return .proxy(.anonymous, route: index) }
        return .answer(LoginChallenge.response(for: request))
    }
}
