import Foundation
import GatehouseTestSupport
import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

/// Running Hummingbird applications for the length of a test.
enum TestServer {
    /// Builds an application (given a callback for its bound port), runs it, waits until it
    /// listens, runs `body` with the port, then shuts it down.
    static func run<App: ApplicationProtocol, T: Sendable>(
        _ make: (@escaping @Sendable (Int) async -> Void) throws -> App,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try make { port in continuation.yield(port) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // However the server ends (it may fail to bind), the wait below ends too.
                defer { continuation.finish() }
                try await app.run()
            }
            defer { group.cancelAll() }
            var listening: Int?
            for await bound in ports {
                listening = bound
                break
            }
            guard let port = listening else {
                try await group.next()
                throw Failure("the test server stopped before it listened")
            }
            return try await body(port)
        }
    }

    /// A TCP port on 127.0.0.1 for a server whose URL must be known before it starts (see
    /// `ReservedPort`: never an ephemeral port another test's server could be given).
    static func freePort() throws -> Int {
        try ReservedPort.take()
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
