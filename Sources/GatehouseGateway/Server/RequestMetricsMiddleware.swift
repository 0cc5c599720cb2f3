import GatehouseHummingbird
import Hummingbird

/// Counts every answer in `gatehouse_http_requests_total`, including the errors thrown by
/// the handlers (as the status they will be answered with).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = GatehouseRequestContext

    let metrics: GatewayMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.countRequest(path: request.uri.path, status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            metrics.countRequest(path: request.uri.path, status: error.status.code)
            throw error
        } catch {
            metrics.countRequest(path: request.uri.path, status: 500)
            throw error
        }
    }
}
