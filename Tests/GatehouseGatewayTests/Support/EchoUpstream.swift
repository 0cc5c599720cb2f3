import Foundation
import Hummingbird

/// The app behind the gateway in tests: answers every request with JSON describing what it
/// received (method, path, query, headers), `/redirect` with a `302` the proxy must pass on.
enum EchoUpstream {
    struct Echo: Codable {
        var method: String
        var path: String
        var query: String?
        var headers: [[String]]
        /// The `Host` the upstream was sent.
        var authority: String? = nil

        /// Every value of a header (case-insensitive name).
        func values(_ name: String) -> [String] {
            headers.filter { $0.first?.lowercased() == name.lowercased() }.compactMap { $0.last }
        }

        func value(_ name: String) -> String? { values(name).first }
    }

    /// Runs the upstream on 127.0.0.1 (a free port) for the duration of `body`.
    static func with<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        let router = Router()
        router.on("**", method: .get) { request, _ in try respond(request) }
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            router.on("**", method: method) { request, _ in try respond(request) }
        }
        router.get("/redirect") { _, _ in
            Response(status: .found, headers: [.location: "/elsewhere"])
        }
        return try await TestServer.run(
            { onRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
            }, body)
    }

    private static func respond(_ request: Request) throws -> Response {
        let echo = Echo(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
            headers: request.headers.map { [$0.name.rawName, $0.value] }, authority: request.head.authority)
        let data = try JSONEncoder().encode(echo)
        var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        response.headers[.contentType] = "application/json"
        return response
    }
}
