import Foundation
import GatehouseTesting
import Hummingbird
import Logging
import ServiceLifecycle

/// A relying party's back-channel logout endpoint on `127.0.0.1:0` that hands every
/// received `logout_token` to the test.
struct LogoutReceiver {
    /// Runs a receiver during `body`, which gets the endpoint URL and the stream of tokens.
    static func with<T: Sendable>(
        _ body: @Sendable (_ url: String, _ tokens: AsyncStream<String>) async throws -> T
    ) async throws -> T {
        let (tokens, sink) = AsyncStream<String>.makeStream()
        let router = Router()
        router.post("/backchannel-logout") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let pairs = text.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1) }
            guard let pair = pairs.first(where: { $0.first == "logout_token" }), pair.count == 2,
                let token = String(pair[1]).removingPercentEncoding
            else { return Response(status: .badRequest) }
            sink.yield(token)
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        }
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) })
        let server = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test.receiver")))
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { try await server.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw TestBrowser.Failure("receiver did not start") }
            do {
                let result = try await body("http://127.0.0.1:\(port)/backchannel-logout", tokens)
                await server.triggerGracefulShutdown()
                return result
            } catch {
                await server.triggerGracefulShutdown()
                throw error
            }
        }
    }
}
