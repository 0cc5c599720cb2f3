public import AsyncHTTPClient
public import ServiceLifecycle

/// Runs an `HTTPClient` for the application's lifetime: waits for graceful shutdown, then
/// shuts the client down (after the server has stopped taking requests).
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
