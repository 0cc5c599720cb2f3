public import Foundation
public import GatehouseHummingbird
public import GatehouseOAuth
import GatehouseStore

/// One entry of the route table (YAML `routes:`, DESIGN §2): which requests it takes (host,
/// path prefix, methods), where they go, and who may reach them. The environment's settings
/// make the one default route when the file names none.
public struct Route: Sendable {
    /// `name`: `[a-z0-9-]+`, unique; in logs, refusals and metrics.
    public var name: String
    /// `match.host`: lower case, with `:port` when the route names one; `nil`: any host.
    public var host: String?
    /// `match.path_prefix` as whole segments (`[]` is `/`: every path).
    public var pathPrefix: [String]
    /// `match.methods`, upper case; `nil`: any. `GET` admits `HEAD` too.
    public var methods: Set<String>?
    /// `upstream`: scheme, authority and optional base path, without a trailing slash.
    public var upstream: String
    /// `allow`: who may reach this route once signed in (emails or email domains, groups);
    /// empty: anyone who may sign in.
    public var allow: AccessRules
    /// `skip_auth`: served without a login (a session, when there is one, still identifies).
    public var skipAuth: Bool
    /// `pass_access_token`: relay the session's access token as `Authorization: Bearer`.
    public var passAccessToken: Bool
    /// `identity_headers`: send `X-Forwarded-User` and the other identity fields.
    public var identityHeaders: Bool
    /// `providers`: the ids of the providers whose sessions this route admits; `nil`: all.
    public var providers: [String]?
    /// `token`: which access token the upstream gets (with ``passAccessToken`` for `user`).
    public var token: RouteToken = .user
    /// `acr_values` and `max_age`: the authentication a session needs here (step-up); `nil`:
    /// any session.
    public var stepUp: StepUp?
    /// `require_csrf_header`: every request must carry the CSRF header (`GATEHOUSE_CSRF_HEADER`,
    /// default `X-CSRF`) with the value `1`, else `403 missing_csrf_header` — for API routes
    /// only a front end's own scripts call.
    public var requireCSRFHeader = false

    public init(
        name: String, host: String? = nil, pathPrefix: [String] = [], methods: Set<String>? = nil, upstream: String,
        allow: AccessRules = AccessRules(), skipAuth: Bool = false, passAccessToken: Bool = false,
        identityHeaders: Bool = true, providers: [String]? = nil
    ) {
        self.providers = providers
        self.name = name
        self.host = host
        self.pathPrefix = pathPrefix
        self.methods = methods
        self.upstream = upstream
        self.allow = allow
        self.skipAuth = skipAuth
        self.passAccessToken = passAccessToken
        self.identityHeaders = identityHeaders
    }

    /// The name of the route the environment describes.
    public static let defaultName = "default"

    /// The `route` label of its requests in `gatehouse_http_requests_total`: its name, or
    /// `proxy` for the environment's default route (as before routes existed).
    var metricsLabel: String {
        name == Self.defaultName && takesEverything ? GatewayMetrics.proxyRoute : name
    }

    /// Whether the route takes every request (no host, `/`, any method): a table of one such
    /// route needs no matching at all.
    var takesEverything: Bool { host == nil && pathPrefix.isEmpty && methods == nil }

    /// Whether `method` (upper case, as sent) is one this route serves.
    func allows(method: String) -> Bool {
        guard let methods else { return true }
        return methods.contains(method) || (method == "HEAD" && methods.contains("GET"))
    }

    /// The `Allow` field of a `405` (RFC 9110 §15.5.6).
    var allowField: String {
        var names = Array(methods ?? [])
        if names.contains("GET"), !names.contains("HEAD") { names.append("HEAD") }
        return names.sorted().joined(separator: ", ")
    }

    /// `authority` without its `:port` (IPv6 literals keep their brackets).
    static func hostName(of authority: String) -> String {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return authority }
            return String(authority[...close])
        }
        guard let colon = authority.lastIndex(of: ":") else { return authority }
        return String(authority[..<colon])
    }
}

/// A route's step-up requirement (OIDC Core §3.1.2.1): the session's `acr` must be one of
/// `acrValues` (when any) and its `auth_time` at most `maxAge` seconds old (when set);
/// otherwise the browser goes back to the IdP asking for them.
public struct StepUp: Sendable, Equatable {
    public var acrValues: [String]
    public var maxAge: Int?

    public init(acrValues: [String] = [], maxAge: Int? = nil) {
        self.acrValues = acrValues
        self.maxAge = maxAge
    }

    /// Whether `identity` (its `acr` and `auth_time`) satisfies this at `now`.
    public func isSatisfied(by identity: Identity, now: Date) -> Bool {
        LoginConditions(acrValues: acrValues, maxAge: maxAge).isSatisfied(by: identity, now: now)
    }
}

/// A route's `token:` (DESIGN §2): which access token its upstream receives as
/// `Authorization: Bearer`.
public enum RouteToken: Sendable, Equatable {
    /// The signed-in user's, when `pass_access_token` is on (the default).
    case user
    /// None: a client's `Authorization` passes as it came, the gateway adds nothing.
    case none
    /// The gateway's own, from the client credentials grant at the route's first provider
    /// (cached, one refresh at a time); a client's `Authorization` never passes.
    case clientCredentials(scopes: [String], resources: [String])
}

/// A request's authority as routes compare it: lower case, whole and without its port.
struct RequestHost {
    let authority: String?
    let name: String?

    init(_ authority: Substring?) {
        let lowered = authority?.lowercased()
        self.authority = lowered
        self.name = lowered.map(Route.hostName(of:))
    }
}

/// A route's `match.host`, prepared once: whether it names a port decides what it is
/// compared with (no string searching per request).
struct HostMatch: Sendable {
    let host: String?
    let namesPort: Bool

    init(_ host: String?) {
        self.host = host
        guard let host else {
            self.namesPort = false
            return
        }
        let utf8 = host.utf8
        if utf8.first == UInt8(ascii: "[") {
            // `[::1]:4180`: a port after the closing bracket.
            let close = utf8.firstIndex(of: UInt8(ascii: "]"))
            self.namesPort = close.map { utf8.index(after: $0) < utf8.endIndex } ?? false
        } else {
            self.namesPort = utf8.contains(UInt8(ascii: ":"))
        }
    }

    /// A route host with a port matches that authority exactly; without one, the host name
    /// with any port.
    func matches(_ request: RequestHost) -> Bool {
        guard let host else { return true }
        return namesPort ? request.authority == host : request.name == host
    }
}
