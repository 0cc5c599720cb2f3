import AsyncHTTPClient
import Foundation
import GatehouseTestSupport
import Hummingbird
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `gatehouse serve` as a child process: SIGTERM in the middle of a slow upstream response
/// lets that response finish, then the process exits 0.
@Suite("gatehouse serve graceful shutdown")
struct GracefulShutdownTests {
    @Test func sigtermDuringASlowResponseLetsItFinish() async throws {
        let router = Router()
        router.get("/slow") { _, _ in
            Response(
                status: .ok,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "first|"))
                    try await Task.sleep(for: .seconds(2))
                    try await writer.write(ByteBuffer(string: "last"))
                    try await writer.finish(nil)
                })
        }
        try await TestServer.run(
            { onRunning in
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
            }
        ) { upstreamPort in
            let serve = try await ServeProcess(upstreamPort: upstreamPort, environment: ["GATEHOUSE_SKIP_AUTH_ROUTES": "/slow"])
            defer { serve.stop() }
            let process = serve.process
            let base = serve.baseURL

            let response = try await DOTBrowser.http.execute(HTTPClientRequest(url: base + "/slow"), timeout: .seconds(20))
            #expect(response.status == .ok)
            var body = ""
            var signalled = false
            for try await chunk in response.body {
                body += String(buffer: chunk)
                if !signalled, body.hasPrefix("first|") {
                    #expect(kill(process.processIdentifier, SIGTERM) == 0)
                    signalled = true
                }
            }
            #expect(signalled)
            #expect(body == "first|last")
            for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning)
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0)
        }
    }

    static func waitUntilHealthy(_ base: String) async throws {
        for _ in 0..<200 {
            if let response = try? await DOTBrowser.http.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServer.Failure("gatehouse serve did not become healthy at \(base)")
    }
}
