import GatehouseHummingbird
import Hummingbird

/// The gateway's front door: Gatehouse's own endpoints (`/oauth2/*`, `/healthz`, `/readyz`,
/// on the main listener) go to the router; everything else is admitted (``RequestAdmission``) and
/// proxied.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext

    let admission: RequestAdmission
    /// The proxy of each route (same order as ``RequestAdmission/routes``).
    let proxies: [ReverseProxy]
    let metrics: GatewayMetrics

    /// The first route's proxy: logs and refusals that belong to no route.
    var proxy: ReverseProxy { proxies[0] }

    /// Paths the gateway answers itself (never proxied).
    static func isGatewayPath(_ path: some StringProtocol) -> Bool {
        path == "/oauth2" || path.hasPrefix("/oauth2/") || path == "/healthz" || path == "/readyz"
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.headers[.upgrade] != nil else { return try await route(request, context: context, next: next) }
        // After a request asking for an upgrade, the HTTP/1.1 parser reads nothing more on the
        // connection: whatever the answer, the connection must close after it.
        var response: Response
        do {
            response = try await route(request, context: context, next: next)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.connection] = "close"
        return response
    }

    /// Whether the request's target is one the gateway serves (``RequestTarget``: origin form,
    /// no fragment, dot segment, `%00` or double encoding; never `CONNECT`). Checked right after
    /// NIO's codec for every request (``RequestScreening``); asked again here and by the proxy
    /// and the WebSocket handshake, which must never act on a target that decision refused.
    static func hasProxyableTarget(_ request: Request) -> Bool {
        request.method != .connect && RequestTarget.isAcceptable(request.rawTarget)
    }

    /// The `400` for a request whose target ``hasProxyableTarget(_:)`` refuses.
    static func badTargetResponse(_ request: Request) -> Response {
        let reason: RequestTarget.Refusal
        do {
            _ = try RequestTarget(request.rawTarget)
            reason = .notOriginForm  // CONNECT
        } catch {
            reason = error
        }
        var response = Page(
            status: .badRequest, title: "Bad request", message: reason.message, category: reason.code
        ).response()
        response.headers[.connection] = "close"
        return response
    }

    private func route(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.hasProxyableTarget(request) else {
            proxy.logger.notice("request target refused", metadata: ["method": "\(request.method)"])
            return Self.badTargetResponse(request)
        }
        if Self.isGatewayPath(request.decidedPath) { return try await next(request, context) }
        var context = context
        let decision = try await admission.decide(request, peerIP: context.peerIP) {
            try await admission.auth.session(for: request, context: &context)
        }
        switch decision {
        case .answer(let response):
            return response
        case .proxy(let principal, let route):
            if let refusal = refuseUpgrade(request) { return refusal }
            metrics.proxiedByRouter.increment()
            return await proxies[route].forward(request, peerIP: context.peerIP, principal: principal)
        }
    }

    /// An upgrade that reaches this point is not passed through: WebSocket handshakes are
    /// taken over before the router (``WebSocketPassThrough``) unless the upstream is not
    /// `http://`; other protocols (`h2c`, …) never are. Rather than letting the upstream see a
    /// plain `GET` without its `Upgrade` (hop-by-hop) and answer something the client cannot
    /// use, the gateway says so — after the session check, so that nobody unauthenticated
    /// learns anything.
    func refuseUpgrade(_ request: Request) -> Response? {
        guard let upgrade = request.headers[.upgrade] else { return nil }
        let protocolName = String(
            (upgrade.split(separator: ",").first.map { $0.trimmingWhitespace().lowercased() } ?? "").prefix(32))
        proxy.logger.notice("protocol upgrade refused", metadata: ["upgrade": "\(protocolName)"])
        let message =
            protocolName == "websocket"
            ? "WebSocket connections are passed through only to an application reached over http://."
            : "This gateway passes only WebSocket upgrades through to the application."
        return Page(
            status: .notImplemented, title: "Upgrade not supported", message: message,
            category: "upgrade_not_supported"
        ).response()
    }
}

extension Request {
    /// The request target exactly as the client sent it (path and query).
    var rawTarget: String { head.path ?? "" }

    /// The path admission is decided on and the upstream receives: ``rawTarget`` up to `?`.
    var decidedPath: Substring {
        let target = rawTarget
        return target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? target[...]
    }
}
