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
        /// The route's index in the table and its upstream.
        let route: Int
        let target: Target

        /// The request announced a body (a positive `Content-Length` or chunked).
        var hasBody: Bool { bodyLength != 0 }
    }

    /// A route whose upstream the direct path serves (plain `http://`), with its own
    /// connection pools. A class: each plan refers to it (one reference, not a copy of the
    /// proxy's settings per request).
    final class Target: Sendable {
        let proxy: ReverseProxy
        let upstream: UpstreamAddress
        let pools: UpstreamPools
        /// The route's `route` label in the request metrics.
        let metricsLabel: String

        init(proxy: ReverseProxy, upstream: UpstreamAddress, pools: UpstreamPools, metricsLabel: String) {
            self.proxy = proxy
            self.upstream = upstream
            self.pools = pools
            self.metricsLabel = metricsLabel
        }
    }

    let admission: RequestAdmission
    /// Per route (the table's order): its target, or `nil` when the router must serve it.
    let targets: [Target?]
    let metrics: GatewayMetrics

    /// Settings every route shares (logger, timeouts, forwarding rules): the first route's proxy.
    let proxy: ReverseProxy

    /// `nil` unless some route's upstream is plain `http://`.
    init?(
        admission: RequestAdmission, proxies: [ReverseProxy], metrics: GatewayMetrics, idleTimeout: Duration,
        maxConnections: Int = 512
    ) {
        let targets = zip(proxies, admission.routes.routes).map { proxy, route -> Target? in
            // A service token is fetched, and maybe refreshed, with waiting: the router's.
            guard proxy.serviceToken == nil, let upstream = UpstreamAddress(url: proxy.upstream) else { return nil }
            let pools = UpstreamPools(
                address: upstream, idleTimeout: idleTimeout, maxConnections: maxConnections, logger: proxy.logger)
            return Target(proxy: proxy, upstream: upstream, pools: pools, metricsLabel: route.metricsLabel)
        }
        guard let first = proxies.first, targets.contains(where: { $0 != nil }) else { return nil }
        self.admission = admission
        self.targets = targets
        self.metrics = metrics
        self.proxy = first
    }

    /// The plan for `request` (admitted by ``RequestScreening``, which read its target,
    /// `Host` and framing), or `nil` when the router must handle it: anything but a request
    /// the route table sends to an `http://` route whose principal is known without waiting.
    func plan(_ request: HTTPRequestHead, screened: RequestScreening.Screened, peerIP: String?) -> Plan? {
        let target = screened.target
        let path = target.path
        let fields = request.headers
        guard !GatewayMiddleware.isGatewayPath(path), !fields.contains(name: "upgrade"), !fields.contains(name: "expect")
        else { return nil }
        let authority = admission.routes.namesHosts
            ? admission.authority(
                host: screened.host.map { Substring($0) }, forwardedHost: fields.first(name: "x-forwarded-host").map { Substring($0) },
                peerIP: peerIP)
            : nil
        guard case .route(let index) = admission.selectRoute(authority: authority, path: path, method: request.method.rawValue),
            let upstreamTarget = targets[index],
            !admission.routes.requiresCSRFHeader[index] || Self.hasCSRFHeader(fields, name: admission.csrfHeader),
            let principal = principal(fields, method: request.method, path: path, route: index)
        else { return nil }
        let upstream = upstreamTarget.upstream

        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 8)
        headers.add(name: "Host", value: upstream.authority)
        ProxyHeaders.request(
            fields: fields, authority: nil, peerIP: peerIP, trusted: upstreamTarget.proxy.trustedProxies.trusts(peerIP),
            defaultScheme: upstreamTarget.proxy.publicScheme, settings: upstreamTarget.proxy.headerSettings, principal: principal,
            passAccessToken: upstreamTarget.proxy.passAccessToken, identityHeaders: upstreamTarget.proxy.identityHeaders,
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
            path: path, closeClient: !request.isKeepAlive, bodyLength: bodyLength, route: index, target: upstreamTarget)
    }

    /// ``CSRFHeader/isPresent(_:in:)`` for NIO's fields (a refusal is the router's to answer).
    static func hasCSRFHeader(_ fields: HTTPHeaders, name: String) -> Bool {
        let values = fields[name]
        return values.count == 1 && values[0] == "1"
    }

    /// RFC 9110 §9.2.1 (``OriginCheck/isUnsafe(_:)`` for the router's types).
    static let safeMethods: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .TRACE]
    /// RFC 9110 §9.2.2: the methods a request may be retried with.
    static let idempotentMethods: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE]

    /// The principal when it is known without waiting: a settled session that passes the
    /// route's rules, or nobody on an open path when no session cookie was sent. A bearer
    /// token (when accepted at all), several session cookies, or a refusal are for the router.
    private func principal(_ fields: HTTPHeaders, method: HTTPMethod, path: Substring, route: Int) -> ProxyPrincipal? {
        if admission.bearer != nil, fields.contains(name: "authorization") { return nil }
        switch SessionCookieLookup(fields, name: admission.auth.cookies.sessionName) {
        case .one(let value):
            // With the cross-site check on, unsafe methods are the router's to check.
            if admission.checksCrossSite, !Self.safeMethods.contains(method) { return nil }
            guard let session = admission.auth.settledSession(cookieValue: value),
                admission.admits(session.identity, provider: session.provider, onRoute: route) == nil,
                // A DPoP-bound token needs a proof per request, and a retry with a new nonce.
                session.tokens.dpopKey == nil || targets[route]?.proxy.passAccessToken == false
            else { return nil }
            return .session(session)
        case .absent:
            return admission.isOpen(path, onRoute: route) ? .anonymous : nil
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
