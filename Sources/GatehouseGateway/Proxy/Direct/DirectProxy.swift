import GatehouseHummingbird
import GatehouseStore
import NIOHTTP1

/// The proxy's hot path, decided without leaving the event loop: a request whose session is
/// settled in this process's cache (no store read, no idle-deadline write, no refresh due) or
/// that is anonymous on a skip-auth route is sent to an `http://` upstream by
/// ``DirectProxyHandler`` over this event loop's keep-alive connections (``UpstreamPool``),
/// with no task, no router and no hop to another thread.
///
/// Everything else — a cache miss, a refresh or touch due, a bearer token, an upgrade, an
/// `Expect`, Gatehouse's own endpoints, an odd request target — goes to the router, which does
/// the same with the full machinery (``GatewayMiddleware`` and ``ReverseProxy``). Both paths
/// build the upstream request with ``ProxyHeaders``, so the upstream cannot tell them apart.
struct DirectProxy: Sendable {
    /// What to send upstream for one request.
    struct Plan {
        /// The upstream request head: `Host`, filtered fields, identity, framing.
        let head: HTTPRequestHead
        /// The request path without its query (for logs).
        let path: Substring
        /// The client asked to close the connection after this exchange.
        let closeClient: Bool
        /// The body's announced length (`0`: none); `nil`: chunked.
        let bodyLength: Int?

        /// The request announced a body (a positive `Content-Length` or chunked).
        var hasBody: Bool { bodyLength != 0 }
    }

    let admission: RequestAdmission
    let proxy: ReverseProxy
    let upstream: UpstreamAddress
    let metrics: GatewayMetrics
    let pools: UpstreamPools

    /// `nil` unless the upstream is plain `http://`.
    init?(
        admission: RequestAdmission, proxy: ReverseProxy, metrics: GatewayMetrics, idleTimeout: Duration,
        maxConnections: Int = 512
    ) {
        guard let upstream = UpstreamAddress(url: proxy.upstream) else { return nil }
        self.admission = admission
        self.proxy = proxy
        self.upstream = upstream
        self.metrics = metrics
        self.pools = UpstreamPools(
            address: upstream, idleTimeout: idleTimeout, maxConnections: maxConnections, logger: proxy.logger)
    }

    /// The plan for `request` (admitted by ``RequestScreening``, which read its target and
    /// framing), or `nil` when the router must handle it.
    func plan(_ request: HTTPRequestHead, screened: RequestScreening.Screened, peerIP: String?) -> Plan? {
        let target = screened.target
        let path = target.path
        let fields = request.headers
        guard !GatewayMiddleware.isGatewayPath(path), !fields.contains(name: "upgrade"), !fields.contains(name: "expect"),
            let principal = principal(fields, method: request.method, path: path)
        else { return nil }

        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 8)
        headers.add(name: "Host", value: upstream.authority)
        ProxyHeaders.request(
            fields: fields, authority: nil, peerIP: peerIP, trusted: proxy.trustedProxies.trusts(peerIP),
            defaultScheme: proxy.publicScheme, settings: proxy.headerSettings, principal: principal, passAccessToken: proxy.passAccessToken,
            into: &headers)
        // Framing: the client's, restated (ProxyHeaders drops both fields) and written as is:
        // the upstream connection's encoder never adds, removes or changes framing fields
        // (UpstreamPool), so what NIO's decoder read as this request's body is exactly the body
        // the upstream is told about, whatever the method.
        let bodyLength = screened.bodyLength
        if let bodyLength {
            if bodyLength > 0 || request.method == .POST || request.method == .PUT || request.method == .PATCH {
                headers.add(name: "Content-Length", value: String(bodyLength))
            }
        } else {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        return Plan(
            head: HTTPRequestHead(
                version: .http1_1, method: request.method, uri: upstream.basePath + target.forwarded, headers: headers),
            path: path, closeClient: !request.isKeepAlive, bodyLength: bodyLength)
    }

    /// RFC 9110 §9.2.1 (``OriginCheck/isUnsafe(_:)`` for the router's types).
    static let safeMethods: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .TRACE]
    /// RFC 9110 §9.2.2: the methods a request may be retried with.
    static let idempotentMethods: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE]

    /// The principal when it is known without waiting: a settled session, or nobody on a
    /// skip-auth route when no session cookie was sent. A bearer token (when accepted at all)
    /// or several session cookies are for the router.
    private func principal(_ fields: HTTPHeaders, method: HTTPMethod, path: Substring) -> ProxyPrincipal? {
        if admission.bearer != nil, fields.contains(name: "authorization") { return nil }
        switch SessionCookieLookup(fields, name: admission.auth.cookies.sessionName) {
        case .one(let value):
            // With the cross-site check on, unsafe methods are the router's to check.
            if admission.checksCrossSite, !Self.safeMethods.contains(method) { return nil }
            return admission.auth.settledSession(cookieValue: value).map(ProxyPrincipal.session)
        case .absent:
            return admission.skipAuthRoutes.matches(path) ? .anonymous : nil
        case .ambiguous:
            return nil
        }
    }
}

/// How often a request carries the session cookie.
enum SessionCookieLookup: Equatable {
    case absent
    case one(Substring)
    /// More than once: left to the router's cookie parsing.
    case ambiguous

    /// Scans the `Cookie` fields byte by byte (this runs on every proxied request).
    init(_ fields: HTTPHeaders, name: String) {
        var found: Substring?
        for (fieldName, value) in fields where fieldName.utf8.count == 6 && ProxyHeaders.lowercasedASCII(fieldName) == "cookie" {
            var start = value.utf8.startIndex
            while start < value.utf8.endIndex {
                let end = value.utf8[start...].firstIndex(of: UInt8(ascii: ";")) ?? value.utf8.endIndex
                let pair = value.utf8[start..<end].drop { $0 == UInt8(ascii: " ") }
                start = end < value.utf8.endIndex ? value.utf8.index(after: end) : end
                guard pair.starts(with: name.utf8) else { continue }
                let equals = pair.index(pair.startIndex, offsetBy: name.utf8.count)
                guard equals < pair.endIndex, pair[equals] == UInt8(ascii: "=") else { continue }
                if found != nil {
                    self = .ambiguous
                    return
                }
                found = Substring(pair[pair.index(after: equals)...])
            }
        }
        self = found.map(Self.one) ?? .absent
    }
}
