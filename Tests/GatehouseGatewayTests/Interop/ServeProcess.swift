import Foundation
import GatehouseTestSupport

/// `gatehouse serve` as a child process, with its own SQLite store in a temporary directory,
/// in front of an upstream on 127.0.0.1.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let baseURL: String
    private let directory: URL

    /// Starts the process and waits until `/healthz` answers.
    init(upstreamPort: Int, environment extra: [String: String] = [:]) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-serve-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try TestServer.freePort()
        baseURL = "http://127.0.0.1:\(port)"
        process.executableURL = try GatehouseCommand.executable()
        process.arguments = ["serve"]
        process.environment = [
            "PATH": "/usr/bin:/bin",
            "GATEHOUSE_LISTEN": "127.0.0.1:\(port)",
            "GATEHOUSE_PUBLIC_URL": baseURL,
            "GATEHOUSE_ISSUER": try DOT.issuer(),
            "GATEHOUSE_CLIENT_ID": DOT.confidentialClient,
            "GATEHOUSE_CLIENT_SECRET": DOT.secret,
            "GATEHOUSE_UPSTREAM": "http://127.0.0.1:\(upstreamPort)",
            "GATEHOUSE_STORE": "sqlite:" + directory.appendingPathComponent("gatehouse.db").path,
            "GATEHOUSE_ENCRYPTION_KEYS": GatewayFixture.randomKey(),
            "GATEHOUSE_LOG_LEVEL": "warning",
        ].merging(extra) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try ProcessLaunch.start(process)
        do {
            try await GracefulShutdownTests.waitUntilHealthy(baseURL)
        } catch {
            stop()
            throw error
        }
    }

    /// The resident set size now, from `/proc/<pid>/status` (`VmRSS`), in bytes.
    func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// Terminates the process (if still running) and removes its directory.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
