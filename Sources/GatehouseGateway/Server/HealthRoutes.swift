import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Prometheus

/// `/healthz` (the process answers) and `/readyz` (the store and the IdP's metadata are
/// reachable) on the main listener; `/metrics` (Prometheus text format) only on
/// `GATEHOUSE_METRICS_LISTEN` (``MetricsListener``).
struct HealthRoutes: Sendable {
    let auth: AuthService
    let registry: PrometheusCollectorRegistry
    let activeSessions: Gauge
    /// `/readyz`'s checks, shared by every probe (see ``ReadinessCache``).
    let readiness: ReadinessCache

    init(auth: AuthService, registry: PrometheusCollectorRegistry, activeSessions: Gauge) {
        self.auth = auth
        self.registry = registry
        self.activeSessions = activeSessions
        self.readiness = ReadinessCache { await Self.problems(auth) }
    }

    /// Each also answers `HEAD` (load balancers and uptime checks use it).
    func register(on router: Router<GatehouseRequestContext>) {
        router.get("/healthz") { _, _ in Self.health() }
        router.head("/healthz") { _, _ in Self.health().createHeadResponse() }
        router.get("/readyz") { _, _ in await self.ready() }
        router.head("/readyz") { _, _ in await self.ready().createHeadResponse() }
    }

    static func health() -> Response {
        text("ok\n", status: .ok)
    }

    func metrics() async -> Response {
        if let count = try? await auth.store.activeCount() { activeSessions.set(to: Double(count)) }
        var response = Self.text(registry.emitToString(), status: .ok)
        response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return response
    }

    /// `200` when both the store and the IdP metadata answer, else `503` naming what failed
    /// (as checked at most ``ReadinessCache/ttl`` ago).
    func ready() async -> Response {
        let problems = await readiness.problems()
        if problems.isEmpty { return Self.text("ready\n", status: .ok) }
        return Self.text("not ready: " + problems.joined(separator: ", ") + "\n", status: .serviceUnavailable)
    }

    /// What is not reachable now: `store`, `idp`.
    static func problems(_ auth: AuthService) async -> [String] {
        var problems: [String] = []
        do {
            _ = try await auth.store.activeCount()
        } catch {
            problems.append("store")
        }
        do {
            _ = try await auth.client.metadata()
        } catch {
            problems.append("idp")
        }
        return problems
    }

    static func text(_ body: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
