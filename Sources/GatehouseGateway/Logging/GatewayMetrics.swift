import Prometheus
import Synchronization

/// The gateway's own Prometheus series, on the registry `/metrics` serves (on
/// `GATEHOUSE_METRICS_LISTEN`):
///
/// - `gatehouse_http_requests_total{route, status}`: every answer, by route (one of
///   Gatehouse's endpoints, `/oauth2/other`, or `proxy` for everything proxied — never the
///   raw path, whose values are unbounded) and status code;
/// - `gatehouse_upstream_duration_seconds`: histogram of the time until the upstream's
///   response head arrived (failures included);
/// - `gatehouse_active_sessions`: sessions not yet expired, counted at each scrape;
/// - `gatehouse_proxied_requests_total{path}`: requests sent upstream, by how: `direct` (a
///   settled session or a skip-auth route, on the event loop, see `DirectProxy`) or `router`
///   (a session read from the store, refreshed or touched; a bearer token; any other case).
///
/// Login, sign-out, back-channel logout and refresh counters come from the library through
/// swift-metrics (see `Observability`).
final class GatewayMetrics: Sendable {
    private struct RequestKey: Hashable {
        let route: String
        let status: Int
    }

    private let registry: PrometheusCollectorRegistry
    /// Counters already registered, so a request costs one dictionary lookup under a lock.
    private let requestCounters = Mutex<[RequestKey: Counter]>([:])
    let upstreamDuration: DurationHistogram
    let activeSessions: Gauge
    let proxiedDirect: Counter
    let proxiedByRouter: Counter

    /// Gatehouse's own endpoints, each its own `route` value.
    static let ownRoutes: Set<String> = [
        "/oauth2/start", "/oauth2/callback", "/oauth2/sign_out", "/oauth2/auth", "/oauth2/userinfo",
        "/oauth2/backchannel-logout", "/oauth2/frontchannel-logout", "/healthz", "/readyz",
    ]

    static var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gatehouse", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "Answers by route and status code.")
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.upstreamDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "gatehouse", metricName: "upstream_duration", unitName: "seconds",
                helpText: "Time until the upstream's response head arrived."),
            buckets: [
                .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            ])
        self.activeSessions = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "gatehouse", metricName: "active", unitName: "sessions",
                helpText: "Sessions not yet expired (counted at each scrape)."))
        let proxied = MetricNameDescriptor(
            namespace: "gatehouse", subsystem: "proxied", metricName: "requests", unitName: "total",
            helpText: "Requests sent upstream, directly from the event loop or through the router.")
        self.proxiedDirect = registry.makeCounter(descriptor: proxied, labels: [("path", "direct")])
        self.proxiedByRouter = registry.makeCounter(descriptor: proxied, labels: [("path", "router")])
    }

    /// The `route` label of everything proxied.
    static let proxyRoute = "proxy"

    /// The `route` label for a request path.
    static func route(for path: String) -> String {
        if ownRoutes.contains(path) { return path }
        // Every provider's callback counts as the callback (ids are not label values).
        if path.hasPrefix("/oauth2/callback/") { return "/oauth2/callback" }
        if path == "/oauth2" || path.hasPrefix("/oauth2/") { return "/oauth2/other" }
        return proxyRoute
    }

    func countRequest(path: String, status: Int) {
        countRequest(route: Self.route(for: path), status: status)
    }

    /// Counts an answer under a known `route` label (the direct proxy path: ``proxyRoute``).
    func countRequest(route: String, status: Int) {
        let key = RequestKey(route: route, status: status)
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.requestsDescriptor, labels: [("route", key.route), ("status", String(key.status))])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }
}
