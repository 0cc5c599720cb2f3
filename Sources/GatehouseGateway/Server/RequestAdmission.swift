import GatehouseHummingbird
import GatehouseStore
import Hummingbird

/// Who may reach the upstream: a valid bearer JWT (only with `GATEHOUSE_ALLOW_BEARER`), else a
/// session, else — on a `GATEHOUSE_SKIP_AUTH_ROUTES` prefix — anybody. Shared by plain
/// requests (``GatewayMiddleware``) and WebSocket handshakes (``WebSocketPassThrough``).
struct RequestAdmission: Sendable {
    enum Decision: Sendable {
        /// Forward on behalf of this principal.
        case proxy(ProxyPrincipal)
        /// Answer with this instead (a login challenge, a refused bearer token).
        case answer(Response)
    }

    let auth: AuthService
    let skipAuthRoutes: SkipAuthRoutes
    /// `nil` unless `GATEHOUSE_ALLOW_BEARER` is on.
    let bearer: BearerAuthenticator?
    /// `GATEHOUSE_PROXY_CSRF`: unsafe methods with a session must come from our origin.
    let checksCrossSite: Bool

    /// The decision for `request`; `findSession` looks the session up (once).
    func decide(_ request: Request, findSession: () async throws -> Session?) async throws -> Decision {
        if let bearer, let token = BearerAuthenticator.token(in: request) {
            switch await bearer.authenticate(token) {
            case .accepted(let identity): return .proxy(.bearer(identity))
            case .refused(let response): return .answer(response)
            }
        }
        let session = try await findSession()
        if let session {
            if checksCrossSite, OriginCheck.isUnsafe(request.method),
                !OriginCheck.isSameOrigin(request, origin: auth.settings.publicOrigin)
            {
                auth.logger.notice("cross-site request refused", metadata: ["method": "\(request.method)"])
                return .answer(OriginCheck.refusal(for: request))
            }
            return .proxy(.session(session))
        }
        if skipAuthRoutes.matches(request.decidedPath) { return .proxy(.anonymous) }
        return .answer(LoginChallenge.response(for: request))
    }
}
