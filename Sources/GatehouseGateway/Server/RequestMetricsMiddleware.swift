import GatehouseHummingbird
import Hummingbird

/// Counts every answer in `gatehouse_http_requests_total`, including the errors thrown by
/// the handlers (as the status they will be answered with); a proxied request's `route` label
/// is its route's name (``Route/metricsLabel``).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext

    let metrics: GatewayMetrics
    /// Names the route of a proxied request (its `route` label).
    let admission: RequestAdmission

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var label = GatewayMetrics.route(for: request.uri.path)
        if label == GatewayMetrics.proxyRoute { label = admission.metricsLabel(for: request, peerIP: context.peerIP) }
        do {
            let response = try await next(request, context)
            metrics.countRequest(route: label, status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            metrics.countRequest(route: label, status: error.status.code)
            throw error
        } catch {
            metrics.countRequest(route: label, status: 500)
            throw error
        }
    }
}
