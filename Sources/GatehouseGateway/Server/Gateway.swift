import AsyncHTTPClient
import HummingbirdCore
public import GatehouseHummingbird
public import GatehouseOAuth
import GatehouseStore
public import Hummingbird
public import Logging
public import Prometheus
import ServiceLifecycle

/// The Backend-for-Frontend gateway: the `/oauth2/*` routes, the session check, the reverse
/// proxy, health and metrics endpoints, assembled into one Hummingbird application whose
/// services (HTTP client, PostgreSQL pool, expired-row purge) share its graceful shutdown.
public struct Gateway: Sendable {
    public let configuration: GatewayConfiguration
    public let auth: AuthService
    /// The proxy of each route of ``GatewayConfiguration/routeTable``, in order.
    let proxies: [ReverseProxy]
    let registry: PrometheusCollectorRegistry
    let metrics: GatewayMetrics
    let admission: RequestAdmission
    let health: HealthRoutes
    let services: [any Service]
    let beforeStart: [@Sendable () async throws -> Void]
    let logger: Logger

    /// Builds the parts; nothing connects until the application runs.
    ///
    /// - Parameters:
    ///   - registry: where `/metrics` reads from (bootstrap swift-metrics with a
    ///     `PrometheusMetricsFactory` over the same registry to include the login counters).
    ///   - endpointOverrides: IdP endpoints the provider serves but does not advertise.
    /// - Throws: ``ConfigurationError`` for keys, URLs or a store that cannot be used.
    public init(
        configuration: GatewayConfiguration,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        endpointOverrides: OAuthClient.EndpointOverrides = .init(),
        logger: Logger = Logger(label: "gatehouse")
    ) throws {
        self.configuration = configuration
        self.registry = registry
        self.metrics = GatewayMetrics(registry: registry)
        self.logger = logger
        let keyRing = try StoreAccess(store: configuration.store, encryptionKeys: configuration.encryptionKeys).keyRing()
        let (driver, driverServices, migrate) = try Self.makeDriver(configuration.store, logger: logger)
        let store = SessionStore(
            driver: driver, keyRing: keyRing,
            configuration: SessionStore.Configuration(
                idleTimeout: configuration.sessionIdleTimeout, maxAge: configuration.sessionMaxAge),
            logger: logger)
        let providers = try Self.makeLoginProviders(configuration, endpointOverrides: endpointOverrides, logger: logger)
        let routes = configuration.routeTable
        do {
            self.auth = try AuthService(
                providers: providers, store: store, settings: configuration.authSettings,
                loginRequirements: routes.loginRequirements(trustedProxies: configuration.trustedProxies), logger: logger)
        } catch {
            throw ConfigurationError("providers", "\(error)")
        }
        let httpClient = ReverseProxy.makeHTTPClient(maxConnections: configuration.upstreamMaxConnections)
        let proxy = ReverseProxy(
            client: httpClient, upstream: configuration.upstream, trustedProxies: configuration.trustedProxies,
            passAccessToken: configuration.passAccessToken,
            publicScheme: configuration.publicURL.lowercased().hasPrefix("https:") ? "https" : "http",
            publicHost: configuration.publicHost, stripRequestHeaders: configuration.stripRequestHeaders,
            headTimeout: configuration.upstreamTimeout, upstreamDuration: metrics.upstreamDuration, logger: logger)
        let auth = self.auth
        self.proxies = routes.routes.map { route in
            guard case .clientCredentials(let scopes, let resources) = route.token else { return proxy.serving(route) }
            // The route's first provider (check-config and loading made sure it exists).
            let provider = route.providers?.first.flatMap { auth.provider(id: $0) } ?? auth.providers[0]
            return proxy.serving(
                route,
                serviceToken: ServiceToken(
                    client: provider.client, scopes: scopes, resources: resources,
                    leeway: configuration.authSettings.refreshLeeway, route: route.name, logger: logger))
        }
        self.admission = RequestAdmission(
            auth: auth, routes: routes, skipAuthRoutes: configuration.skipAuthRoutes,
            bearer: configuration.allowBearer
                ? BearerAuthenticator(
                    client: auth.client, audiences: configuration.bearerAudiences, rules: configuration.rules,
                    logger: logger) : nil,
            checksCrossSite: configuration.proxyCSRF, trustedProxies: configuration.trustedProxies,
            csrfHeader: configuration.csrfHeader ?? CSRFHeader.defaultName)
        let health = HealthRoutes(auth: auth, registry: registry, activeSessions: metrics.activeSessions)
        self.health = health
        self.services =
            driverServices + [
                HTTPClientService(client: httpClient), PurgeService(store: store), DeletionListenerService(store: store),
            ]
            + (configuration.metricsListen.map { listen in
                [MetricsListener.application(host: listen.host, port: listen.port, health: health, logger: logger)]
            } ?? [])
        self.beforeStart = [migrate]
    }

    /// The router: request metrics, the gateway middleware, then Gatehouse's own endpoints.
    public func router() -> Router<GatehouseRequestContext> {
        let router = Router(context: GatehouseRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics, admission: admission))
        router.add(middleware: GatewayMiddleware(admission: admission, proxies: proxies, metrics: metrics))
        OAuthRoutes<GatehouseRequestContext>(auth).register(on: router)
        health.register(on: router)
        return router
    }

    /// The application, listening on `GATEHOUSE_LISTEN`. `onServerRunning` gets the bound
    /// port (useful with port 0).
    public func application(
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<RouterResponder<GatehouseRequestContext>> {
        // With an http:// upstream, WebSocket handshakes are taken over before the router and
        // requests with a settled session are proxied on the event loop (DirectProxy).
        let passThrough = WebSocketPassThrough(
            admission: admission, proxies: proxies, metrics: metrics, sessionCheck: configuration.webSocketSessionCheck)
        let direct =
            configuration.directProxy
            ? DirectProxy(
                admission: admission, proxies: proxies, metrics: metrics, idleTimeout: configuration.upstreamIdleTimeout,
                maxConnections: configuration.upstreamMaxConnections)
            : nil
        var application = Application(
            router: router(),
            server: HTTPServerBuilder { responder in
                GatewayHTTP1Channel(
                    responder: passThrough.map { $0.wrapping(responder) } ?? responder, direct: direct,
                    clientTimeout: configuration.clientTimeout, bodyRate: configuration.minimumBodyRate)
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: nil),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        for process in beforeStart { application.beforeServerStarts(perform: process) }
        return application
    }
}
