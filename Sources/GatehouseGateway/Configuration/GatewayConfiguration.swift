public import GatehouseHummingbird
public import GatehouseOAuth

/// The gateway's configuration (DESIGN §2), validated. Each field names its variable and
/// default; see ``load(environment:file:)`` for how values are read.
public struct GatewayConfiguration: Sendable {
    /// Where a session lives.
    public enum Store: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    /// `GATEHOUSE_LISTEN` host. Default `127.0.0.1`.
    public var listenHost: String = "127.0.0.1"
    /// `GATEHOUSE_LISTEN` port. Default `4180`.
    public var listenPort: Int = 4180
    /// `GATEHOUSE_PUBLIC_URL`, without a trailing slash. Default `http://127.0.0.1:4180`.
    public var publicURL: String = "http://127.0.0.1:4180"
    /// The config file's `providers:` (DESIGN §2), in order; empty: the one provider the
    /// environment describes (``shorthandProvider``).
    public var providers: [ProviderSettings] = []
    /// The environment's one provider, id `default`, used when the file lists no `providers:`:
    /// `GATEHOUSE_PROVIDER` (``ProviderSettings/kind``, default `oidc`), `_ISSUER` (required
    /// for `oidc`), `_MICROSOFT_TENANTS`, `_REQUIRE_EMAIL_VERIFIED`, `_CLIENT_ID` (required),
    /// `_CLIENT_SECRET` or `_CLIENT_SECRET_FILE`, `_CLIENT_AUTH`, `_CLIENT_KEY_FILE` and
    /// `_CLIENT_KEY_ID` (additions to DESIGN §2), `_SCOPES`.
    public var shorthandProvider = ProviderSettings(id: LoginProvider.defaultID, name: "Single sign-on")
    /// `GATEHOUSE_PROFILE`: the security profile of every provider that names none
    /// (``ProviderSettings/profile``). Default none.
    public var profile: SecurityProfile?
    /// `GATEHOUSE_IDP_TIMEOUT`. Default 10 seconds.
    public var idpTimeout: Duration = .seconds(10)
    /// `GATEHOUSE_UPSTREAM_TIMEOUT`: how long the upstream may take to send its response head
    /// (then `504`); the body streams without a deadline. Default 60 seconds.
    public var upstreamTimeout: Duration = .seconds(60)
    /// `GATEHOUSE_UPSTREAM`: the app behind the gateway, without a trailing slash. Required
    /// unless the config file lists `routes:` (then empty).
    public var upstream: String = ""
    /// The config file's `routes:` (DESIGN §2), in order; empty: the one default route the
    /// environment describes (``upstream``, ``passAccessToken``, ``skipAuthRoutes``).
    public var routes: [Route] = []
    /// `GATEHOUSE_STORE`. Default `sqlite:gatehouse.db`.
    public var store: Store = .sqlite(path: "gatehouse.db")
    /// `GATEHOUSE_ENCRYPTION_KEYS`: base64 32-byte keys, the first encrypts. Required.
    public var encryptionKeys: [String] = []
    /// `GATEHOUSE_COOKIE_SECURE`. Default `true`; `false` only with a loopback public URL.
    public var cookieSecure: Bool = true
    /// `GATEHOUSE_SESSION_IDLE_TIMEOUT`. Default 8 hours.
    public var sessionIdleTimeout: Duration = .seconds(8 * 3600)
    /// `GATEHOUSE_SESSION_MAX_AGE`. Default 7 days.
    public var sessionMaxAge: Duration = .seconds(7 * 86400)
    /// `GATEHOUSE_ALLOWED_EMAIL_DOMAINS`, `_EMAILS`, `_GROUPS`. Default: anyone.
    public var rules = AccessRules()
    /// `GATEHOUSE_PASS_ACCESS_TOKEN`. Default `false`. When `true`, the upstream sees only
    /// the `Authorization` the gateway sets (a client's own is always removed), except a
    /// bearer token accepted under ``allowBearer``.
    public var passAccessToken: Bool = false
    /// `GATEHOUSE_ALLOW_BEARER`: also accept `Authorization: Bearer <JWT access token>` (RFC
    /// 9068, `typ: at+jwt`) signed by the IdP for one of ``bearerAudiences`` instead of a
    /// session cookie; ID tokens are never accepted. Default `false`: a client's bearer token
    /// then never identifies anyone.
    public var allowBearer: Bool = false
    /// `GATEHOUSE_BEARER_AUDIENCE` (comma-separated): a bearer access token's `aud` must name
    /// one of these. Default (empty): the client id.
    public var bearerAudiences: [String] = []
    /// `GATEHOUSE_ID_TOKEN_MAX_AGE`: how long ago a login's ID token may have been issued
    /// (`iat`, OIDC Core §3.1.3.7 step 10). Default 10 minutes, as mod_auth_openidc.
    public var idTokenMaxAge: Duration = .seconds(600)
    /// `GATEHOUSE_DIRECT_PROXY`. Default `true`: with an `http://` upstream, requests whose
    /// session is settled in the cache go upstream straight from the event loop
    /// (`DirectProxy`); `false` sends every request through the router (a fallback switch,
    /// and the baseline of the benchmark). Both apply the same rules.
    public var directProxy: Bool = true
    /// How long a client connection may keep the gateway waiting for the next complete piece
    /// of a request (an idle keep-alive connection, a head sent slowly, a stalled upload)
    /// before it is closed; never while an answer is owed. Default 30 seconds. (Not an
    /// environment variable.)
    public var clientTimeout: Duration = .seconds(30)
    /// `GATEHOUSE_MIN_BODY_RATE` / `GATEHOUSE_MIN_BODY_RATE_WINDOW`: the slowest a request body
    /// may arrive, averaged over each window of the client's time (the first window is the
    /// grace period); slower, the connection is closed (`408` when no answer has started).
    /// Default 1024 bytes per second over 30 seconds; `nil` (`GATEHOUSE_MIN_BODY_RATE=0`): off.
    public var minimumBodyRate: MinimumBodyRate? = MinimumBodyRate()
    /// How long a kept-alive upstream connection of the direct path may stay unused before
    /// the gateway closes it (the router's client uses AsyncHTTPClient's default, also 60
    /// seconds). Default 60 seconds. (Not an environment variable.)
    public var upstreamIdleTimeout: Duration = .seconds(60)
    /// `GATEHOUSE_UPSTREAM_MAX_CONNECTIONS`: the most connections each proxy path keeps open
    /// to the upstream at once (the direct path's event-loop pools together, and the router's
    /// HTTP client). A request finding the direct path's connections all busy goes through the
    /// router, whose client queues it until a connection is free (at most until
    /// `GATEHOUSE_UPSTREAM_TIMEOUT`, then `504`). Default 512.
    public var upstreamMaxConnections: Int = 512
    /// How often an open WebSocket tunnel checks that its session still exists; it closes
    /// once the session is gone (signed out, revoked, expired). Default 30 seconds. (Not an
    /// environment variable.)
    public var webSocketSessionCheck: Duration = .seconds(30)
    /// `GATEHOUSE_PROXY_CSRF`. Default `false`. When `true`, a proxied request with an unsafe
    /// method (POST, PUT, PATCH, DELETE, …) made with the session cookie must come from the
    /// gateway's own origin (`Origin`, else `Sec-Fetch-Site`), as `POST /oauth2/sign_out` must;
    /// otherwise it gets `403` and never reaches the upstream. Bearer and skip-auth requests
    /// carry no session and are not checked.
    public var proxyCSRF: Bool = false
    /// `GATEHOUSE_COOKIE_DOMAIN`: the session cookie's `Domain` (several hosts, one sign-in;
    /// then routes may name hosts under it). Default `nil`: a host-only cookie, routes on the
    /// public URL's host only.
    public var cookieDomain: String?
    /// `GATEHOUSE_CSRF_HEADER`: `/oauth2/userinfo` requires this header with the value `1`;
    /// routes with `require_csrf_header` require it too (``CSRFHeader/defaultName`` when unset).
    /// Default `nil`: userinfo does not require it.
    public var csrfHeader: String?
    /// `GATEHOUSE_SKIP_AUTH_ROUTES`. Default none.
    public var skipAuthRoutes = SkipAuthRoutes(prefixes: [])
    /// `GATEHOUSE_TRUSTED_PROXIES`. Default none.
    public var trustedProxies = TrustedProxies(ranges: [])
    /// `GATEHOUSE_MAX_PENDING_LOGINS`: the most logins in flight (started, not yet back from
    /// the IdP) in all, counted in the store; beyond it `/oauth2/start` answers `429`. Default
    /// 100,000.
    public var maxPendingLogins: Int = 100_000
    /// `GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT`: the same per client address (IPv6 by /64,
    /// `X-Forwarded-For` believed from ``trustedProxies``), per gateway process. Default 300.
    public var maxPendingLoginsPerClient: Int = 300
    /// `GATEHOUSE_STRIP_REQUEST_HEADERS`: more request fields never forwarded to the upstream,
    /// from anyone (any letter case, `_` spellings too), beyond the identity and
    /// client-address fields always handled. Default none.
    public var stripRequestHeaders: [String] = []
    /// `GATEHOUSE_METRICS_LISTEN` (`host:port`): the separate listener serving `/metrics`.
    /// Default `nil`: metrics are not served (on the main listener `/metrics` is proxied like
    /// any other path).
    public var metricsListen: (host: String, port: Int)?
    /// `GATEHOUSE_LOG_LEVEL`: `trace`, `debug`, `info`, `notice`, `warning`, `error`,
    /// `critical`. Default `info`.
    public var logLevel: String = "info"
    /// `GATEHOUSE_LOG_FORMAT`: `text` or `json`. Default `text`.
    public var logFormat: String = "text"

    public init() {}

    /// The settings of the `/oauth2/*` routes.
    public var authSettings: AuthSettings {
        AuthSettings(
            publicURL: publicURL, cookieSecure: cookieSecure, rules: rules, pendingLimits: pendingLoginLimits,
            accessTokenRequired: routeTable.routes.contains { $0.passAccessToken }, csrfHeader: csrfHeader,
            cookieDomain: cookieDomain, signInHosts: Array(Set(routes.compactMap(\.host))).sorted())
    }

    /// The claim paths some `allow: {claims: …}` rule reads: sessions keep their values.
    public var retainedClaimPaths: [String] {
        Set(routes.flatMap { $0.allow.claims.keys } + rules.claims.keys).sorted()
    }

    /// The route table: the file's routes, else the environment's one default route (every
    /// host, every path, every method).
    public var routeTable: RouteTable {
        RouteTable(
            routes: routes.isEmpty
                ? [Route(name: Route.defaultName, upstream: upstream, passAccessToken: passAccessToken)] : routes)
    }
}
