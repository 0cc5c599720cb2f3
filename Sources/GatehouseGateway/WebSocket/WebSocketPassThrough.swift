import GatehouseHummingbird
import GatehouseStore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// WebSocket pass-through. A handshake (`GET` with `Upgrade: websocket`) is admitted like any
/// proxied request (``RequestAdmission``: bearer, session or skip-auth route), then sent to the
/// upstream on a new connection with the same header rules as other requests (identity
/// headers set, Gatehouse's cookies removed, `X-Forwarded-*`). When the upstream answers `101`,
/// the client gets that answer's end-to-end fields (`Sec-WebSocket-Accept`, `-Protocol`,
/// `-Extensions`) and the two connections are spliced (``GlueHandler``): the WebSocket session
/// is the upstream's, byte for byte.
///
/// Otherwise: no admission → the router answers as for any request (`401`, …); the upstream
/// answers something else → its status and fields, no body; the upstream is unreachable → the
/// `502` page. Each of these closes the connection. An open tunnel closes when either side
/// closes, at graceful shutdown, and — for a session's tunnel — within ``sessionCheck`` (plus
/// the cache's lifetime) of the session ending: signed out, revoked or expired.
struct WebSocketPassThrough: Sendable {
    let admission: RequestAdmission
    /// Each route's proxy, and its upstream when that is plain `http://` (else `nil`: the
    /// router answers the upgrade with `501`).
    let proxies: [ReverseProxy]
    let upstreams: [UpstreamAddress?]
    let metrics: GatewayMetrics
    /// How often a session's tunnel checks that the session still exists.
    let sessionCheck: Duration

    /// `nil` when no route's upstream is plain `http://` (WebSocket upgrades then get `501`).
    init?(admission: RequestAdmission, proxies: [ReverseProxy], metrics: GatewayMetrics, sessionCheck: Duration) {
        let upstreams = proxies.map { UpstreamAddress(url: $0.upstream) }
        guard upstreams.contains(where: { $0 != nil }) else { return nil }
        self.admission = admission
        self.proxies = proxies
        self.upstreams = upstreams
        self.metrics = metrics
        self.sessionCheck = sessionCheck
    }

    /// Whether `request` is a WebSocket opening handshake (RFC 6455 §4.1).
    static func isHandshake(_ request: Request) -> Bool {
        guard request.method == .get, GatewayMiddleware.hasProxyableTarget(request) else { return false }
        func tokens(_ name: HTTPFields.Element.Name) -> [Substring] {
            request.headers[values: name].flatMap { $0.split(separator: ",") }.map { $0.drop { $0 == " " || $0 == "\t" } }
        }
        return tokens(.upgrade).contains { $0.lowercased().hasPrefix("websocket") }
            && tokens(.connection).contains { $0.lowercased().hasPrefix("upgrade") }
    }

    /// The server's responder with WebSocket handshakes taken over; everything else goes to
    /// `responder` unchanged.
    func wrapping(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, responseWriter, channel in
            guard request.headers[.upgrade] != nil else { return try await responder(request, responseWriter, channel) }
            // After a request asking for an upgrade, the HTTP/1.1 parser reads nothing more on
            // the connection: unless it became a tunnel, the connection closes after the answer.
            if Self.isHandshake(request), !GatewayMiddleware.isGatewayPath(request.decidedPath),
                case .proxy(let principal, let route)? = try? await admission.decide(
                    request, peerIP: channel.remoteAddress?.ipAddress,
                    findSession: { try await admission.auth.session(for: request) }),
                let upstream = upstreams[route]
            {
                let proxy = proxies[route]
                if case .session = principal, !isSameOrigin(request) {
                    try await refuseCrossOrigin(request, responseWriter: responseWriter)
                } else if try await handshake(
                    request, principal: principal, proxy: proxy, upstream: upstream, responseWriter: responseWriter,
                    channel: channel)
                {
                    return
                }
            } else {
                // The router answers (a login challenge, an error page).
                try await responder(request, responseWriter, channel)
            }
            channel.close(promise: nil)
        }
    }

    /// The first route's proxy: logs that belong to no route.
    var proxy: ReverseProxy { proxies[0] }

    /// Cross-site WebSocket hijacking: a page elsewhere can open a WebSocket to this origin, and
    /// the browser may attach the session cookie (same-site but cross-origin pages, older
    /// browsers). Browsers always send the page's `Origin` on a handshake: an origin a page can
    /// have (`http:`, `https:`, or `null` for sandboxed and local pages) must be the gateway's
    /// own. Other values, or none, come from non-browser clients, which could send any `Origin`
    /// anyway.
    private func isSameOrigin(_ request: Request) -> Bool {
        let settings = admission.auth.settings
        for value in request.headers[values: .origin] {
            let origin = value.lowercased()
            if settings.isOwnOrigin(origin) { continue }
            if origin == "null" || origin.hasPrefix("http://") || origin.hasPrefix("https://") { return false }
        }
        return true
    }

    private func refuseCrossOrigin(_ request: Request, responseWriter: consuming ResponseWriter) async throws {
        proxy.logger.warning("cross-origin WebSocket handshake refused", metadata: ["path": "\(request.uri.path)"])
        let page = Page(
            status: .forbidden, title: "Connection refused",
            message: "A page from another origin tried to open a WebSocket connection with your session.",
            category: "cross_origin_websocket")
        try await answer(page, path: request.uri.path, responseWriter: responseWriter)
    }

    /// Writes a refusal page (counted in the request metrics); the connection then closes.
    private func answer(_ page: Page, path: String, responseWriter: consuming ResponseWriter) async throws {
        metrics.countRequest(path: path, status: page.status.code)
        var headers = page.headers
        headers[.connection] = "close"
        try await responseWriter.write(
            response: HTTPResponse(status: page.status, headerFields: headers),
            body: ResponseBody(byteBuffer: ByteBuffer(string: page.html)))
    }

    /// Performs the handshake with the upstream and answers the client; `true` when the
    /// connection became a tunnel.
    private func handshake(
        _ request: Request, principal: ProxyPrincipal, proxy: ReverseProxy, upstream: UpstreamAddress,
        responseWriter: consuming ResponseWriter, channel: any Channel
    ) async throws -> Bool {
        let peerIP = channel.remoteAddress?.ipAddress
        guard case .success(let service) = await proxy.serviceAccessToken() else {
            try await answer(ServiceToken.unavailablePage, path: request.uri.path, responseWriter: responseWriter)
            return false
        }
        var fields = HTTPHeaders()
        fields.add(name: "Host", value: upstream.authority)
        fields.add(
            contentsOf: ProxyHeaders.request(
                request.head, peerIP: peerIP, trusted: proxy.trustedProxies.trusts(peerIP),
                defaultScheme: proxy.publicScheme, settings: proxy.headerSettings, principal: principal, passAccessToken: proxy.passAccessToken,
                identityHeaders: proxy.identityHeaders, serviceToken: service))
        fields.add(name: "Connection", value: "Upgrade")
        fields.add(name: "Upgrade", value: "websocket")
        // The target admission was decided on (isHandshake checked it), exactly.
        guard let target = try? RequestTarget(request.rawTarget) else { return false }
        let path = String(target.path)
        let uri = upstream.basePath + target.forwarded
        if service == nil, let binding = UpstreamDPoP.binding(of: principal, relaysToken: proxy.passAccessToken),
            !proxy.dpop.addProof(to: &fields, binding: binding, method: "GET", url: proxy.upstream + target.forwarded)
        {
            return false
        }

        let started = ContinuousClock.now
        let outcome: UpstreamHandshake.Outcome
        do {
            outcome = try await UpstreamHandshake.perform(
                on: channel.eventLoop, host: upstream.host, port: upstream.port,
                request: HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: fields),
                timeout: TimeAmount(proxy.headTimeout))
        } catch {
            proxy.upstreamDuration?.record(ContinuousClock.now - started)
            proxy.logger.error("upstream unreachable for a WebSocket handshake", metadata: ["error": "\(type(of: error))"])
            try await answer(ReverseProxy.unavailablePage, path: path, responseWriter: responseWriter)
            return false
        }
        proxy.upstreamDuration?.record(ContinuousClock.now - started)
        let status = HTTPResponse.Status(
            code: Int(outcome.head.status.code), reasonPhrase: outcome.head.status.reasonPhrase)
        var headers = ProxyHeaders.responseFields(outcome.head.headers)
        metrics.countRequest(path: path, status: status.code)
        guard status == .switchingProtocols else {
            proxy.logger.notice("upstream refused a WebSocket handshake", metadata: ["status": "\(status.code)"])
            outcome.channel.close(promise: nil)
            headers[.connection] = "close"
            headers[.contentLength] = "0"
            try await responseWriter.writeResponse(HTTPResponse(status: status, headerFields: headers))
            return false
        }
        headers[.connection] = "Upgrade"
        headers[.upgrade] = "websocket"
        // From the 101 on, the connection carries WebSocket frames. A glue handler goes in
        // front of the HTTP handlers first, so that no byte the client sends after the 101
        // reaches them; the upstream's side joins after the 101 is written, so that nothing
        // the upstream sent overtakes it.
        let upstreamChannel = outcome.channel
        let upstreamSide: NIOLoopBound<GlueHandler>
        do {
            upstreamSide = try await channel.eventLoop.submit {
                let (clientSide, upstreamSide) = GlueHandler.matchedPair()
                try channel.pipeline.syncOperations.addHandler(clientSide, position: .first)
                return NIOLoopBound(upstreamSide, eventLoop: channel.eventLoop)
            }.get()
            try await responseWriter.writeResponse(HTTPResponse(status: status, headerFields: headers))
            try await channel.eventLoop.submit {
                try UpstreamHandshake.becomeTunnel(upstreamChannel, glue: upstreamSide.value)
            }.get()
        } catch {
            upstreamChannel.close(promise: nil)
            channel.close(promise: nil)
            throw error
        }
        proxy.logger.debug("WebSocket tunnel open", metadata: ["path": "\(path)"])
        if case .session(let session) = principal { closeWhenEnded(session.idHash, tunnel: channel) }
        return true
    }

    /// Checks every ``sessionCheck`` that the tunnel's session still exists and closes the
    /// tunnel (both connections) once it does not. A store that cannot be read keeps the
    /// tunnel: an outage must not cut every connection.
    private func closeWhenEnded(_ hash: SessionHash, tunnel: any Channel) {
        let store = admission.auth.store
        let interval = sessionCheck
        let logger = proxy.logger
        let watcher = Task {
            while true {
                try await Task.sleep(for: interval)
                do {
                    guard try await store.load(hash: hash) == nil else { continue }
                } catch {
                    continue
                }
                logger.info("WebSocket tunnel closed: its session ended", metadata: ["session": "\(hash.shortDescription)"])
                tunnel.close(promise: nil)
                return
            }
        }
        tunnel.closeFuture.whenComplete { _ in watcher.cancel() }
    }
}
