import Logging
import Metrics
public import Prometheus

/// Process-wide logging and metrics set-up for `gatehouse serve` (call once per process).
public enum Observability {
    /// Bootstraps swift-log (`GATEHOUSE_LOG_LEVEL`, `GATEHOUSE_LOG_FORMAT`) and swift-metrics
    /// (Prometheus); returns the registry `/metrics` serves.
    public static func bootstrap(_ configuration: GatewayConfiguration) -> PrometheusCollectorRegistry {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let json = configuration.logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
