import GatehouseHummingbird

/// The routes in order; the first whose host and path prefix match takes the request (DESIGN
/// §2). ``select(authority:path:method:)`` is the one routing decision: the router, the direct
/// path and the WebSocket handshake all ask it, on the path ``RequestTarget`` decided on.
public struct RouteTable: Sendable {
    public let routes: [Route]
    /// Whether some route names a host (matching then needs the request's authority).
    let namesHosts: Bool
    /// Each route's host and path prefix, prepared for matching.
    private let matchers: [(host: HostMatch, prefix: [String])]
    /// One route that takes every request: nothing to match (the environment's default).
    let takesEverything: Bool
    /// Each route's `allow` rules when it has any (`nil`: anyone signed in), and `skip_auth`:
    /// what admission asks on every request, without copying the routes.
    let rules: [AccessRules?]
    let skipAuth: [Bool]
    /// Each route's allowed provider ids (`nil`: all).
    let providers: [Set<String>?]
    /// Each route's step-up requirement (`acr_values`, `max_age`).
    let stepUps: [StepUp?]
    /// Each route's `require_csrf_header`.
    let requiresCSRFHeader: [Bool]

    public init(routes: [Route]) {
        self.routes = routes
        self.namesHosts = routes.contains { $0.host != nil }
        self.matchers = routes.map { (HostMatch($0.host), $0.pathPrefix) }
        self.takesEverything = routes.count == 1 && routes[0].takesEverything
        self.rules = routes.map { $0.allow.isEmpty ? nil : $0.allow }
        self.skipAuth = routes.map(\.skipAuth)
        self.providers = routes.map { $0.providers.map(Set.init) }
        self.requiresCSRFHeader = routes.map(\.requireCSRFHeader)
        self.stepUps = routes.map(\.stepUp)
    }

    /// What the table decides for a request.
    enum Selection: Equatable {
        /// Proxied under this route (index into ``routes``), after admission.
        case route(Int)
        /// The route's host and path match, its methods do not: `405`, never a later route.
        case methodNotAllowed(Int)
        /// No route takes the request: `404`.
        case noRoute
        /// The path selects different routes depending on how it is decoded (`%2F`, `;`,
        /// escaped letters): `400`, since the upstream's reading cannot be known.
        case ambiguous
    }

    /// The route for a request to `authority` (the trusted `Host`), `path` (as decided by
    /// ``RequestTarget``, without the query) and `method` (upper case, as sent).
    func select(authority: Substring?, path: Substring, method: String) -> Selection {
        if takesEverything { return .route(0) }
        var chosen: Int?
        let host = RequestHost(namesHosts ? authority : nil)
        for (number, reading) in RoutePath.readings(path).enumerated() {
            let index = matchers.firstIndex { matcher in
                matcher.host.matches(host) && RoutePath.hasPrefix(reading, matcher.prefix)
            }
            if number == 0 {
                chosen = index
            } else if index != chosen {
                return .ambiguous
            }
        }
        guard let chosen else { return .noRoute }
        return routes[chosen].allows(method: method) ? .route(chosen) : .methodNotAllowed(chosen)
    }

    /// Routes that an earlier route hides completely (same or broader host, shorter or equal
    /// prefix; methods do not matter: a host and path that match stop at the first route):
    /// `(hidden, by)` names.
    public var hiddenRoutes: [(hidden: String, by: String)] {
        var result: [(String, String)] = []
        for (index, route) in routes.enumerated() {
            let earlier = routes[..<index].first { other in
                (other.host == nil || other.host == route.host)
                    && RoutePath.hasPrefix(route.pathPrefix.map { Substring($0) }, other.pathPrefix)
            }
            if let earlier { result.append((route.name, earlier.name)) }
        }
        return result
    }
}

extension RouteTable {
    /// What a login for a return path must achieve: the providers and step-up level of the
    /// route a `GET` of that path on the start request's authority would take (none when no
    /// route takes it: the request is refused there anyway).
    func loginRequirements(trustedProxies: TrustedProxies) -> AuthService.RequirementsPolicy {
        guard routes.contains(where: { $0.providers != nil || $0.stepUp != nil }) else { return { _, _, _ in .none } }
        return { [self] request, peerIP, returnPath in
            var path = Substring(returnPath)
            var authority = RequestAdmission.authority(
                routes: self, trustedProxies: trustedProxies, host: request.head.authority.map { Substring($0) },
                forwardedHost: request.headers[.xForwardedHost].map { Substring($0) }, peerIP: peerIP)
            if let schemeEnd = returnPath.range(of: "://") {
                // An absolute return target (several hosts): its own host decides the route.
                let rest = returnPath[schemeEnd.upperBound...]
                let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
                authority = rest[..<slash]
                path = rest[slash...]
            }
            guard let target = try? RequestTarget(path.isEmpty ? "/" : path) else { return .none }
            switch select(authority: authority, path: target.path, method: "GET") {
            case .route(let index), .methodNotAllowed(let index):
                let route = routes[index]
                return LoginRequirements(
                    providers: route.providers, acrValues: route.stepUp?.acrValues ?? [], maxAge: route.stepUp?.maxAge)
            case .noRoute, .ambiguous: return .none
            }
        }
    }
}
