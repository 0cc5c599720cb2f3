import Hummingbird
import Logging

/// `GATEHOUSE_METRICS_LISTEN`: a listener of its own that serves `GET`/`HEAD /metrics` and
/// nothing else (`404`), as oauth2-proxy's `--metrics-address`. The series say who signs in,
/// how often and what fails: they stay off the public listener, where `/metrics` is an
/// ordinary proxied path. Runs among the gateway's services, so it shares its shutdown.
enum MetricsListener {
    static func application(
        host: String, port: Int, health: HealthRoutes, logger: Logger
    ) -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        router.get("/metrics") { _, _ in await health.metrics() }
        router.head("/metrics") { _, _ in await health.metrics().createHeadResponse() }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            logger: logger)
    }
}
