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

    func register(on router: Router<GatehouseRequestContext>) {
        router.get("/healthz") { _, _ in
            Self.text("ok\n", status: .ok)
        }
        router.get("/readyz") { _, _ in
            await self.readiness()
        }
        router.get("/metrics") { _, _ in
            if let count = try? await self.auth.store.activeCount() { self.activeSessions.set(to: Double(count)) }
            var response = Self.text(self.registry.emitToString(), status: .ok)
            response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        }
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
