import Foundation
import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import Hummingbird
import Prometheus

/// `/healthz` (the process answers), `/readyz` (the store and the IdP's metadata are
/// reachable) and `/metrics` (Prometheus text format).
struct HealthRoutes: Sendable {
    let auth: AuthService
    let registry: PrometheusCollectorRegistry
    let activeSessions: Gauge

    /// Each also answers `HEAD` (load balancers and uptime checks use it).
    func register(on router: Router<GatehouseRequestContext>) {
        router.get("/healthz") { _, _ in Self.health() }
        router.head("/healthz") { _, _ in Self.health().createHeadResponse() }
        router.get("/readyz") { _, _ in await self.readiness() }
        router.head("/readyz") { _, _ in await self.readiness().createHeadResponse() }
        router.get("/metrics") { _, _ in await self.metrics() }
        router.head("/metrics") { _, _ in await self.metrics().createHeadResponse() }
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

    /// `200` when both the store and the IdP metadata answer, else `503` naming what failed.
    func readiness() async -> Response {
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
        if problems.isEmpty { return Self.text("ready\n", status: .ok) }
        return Self.text("not ready: " + problems.joined(separator: ", ") + "\n", status: .serviceUnavailable)
    }

    static func text(_ body: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
