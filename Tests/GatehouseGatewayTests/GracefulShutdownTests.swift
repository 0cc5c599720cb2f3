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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-sigterm-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
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
            let port = try TestServer.freePort()
            let process = Process()
            process.executableURL = try CheckConfigTests.executable()
            process.arguments = ["serve"]
            process.environment = [
                "PATH": "/usr/bin:/bin",
                "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
                "GATEHOUSE_PUBLIC_URL": "http://127.0.0.1:\(port)",
                "GATEHOUSE_ISSUER": try DOT.issuer(),
                "GATEHOUSE_CLIENT_ID": DOT.confidentialClient,
                "GATEHOUSE_CLIENT_SECRET": DOT.secret,
                "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)",
                "GATEHOUSE_SKIP_AUTH_ROUTES": "/slow",
                "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
                "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
                "GATEHOUSE_LOG_LEVEL": "warning",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let base = "http://127.0.0.1:\(port)"
            try await Self.waitUntilHealthy(base)

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
