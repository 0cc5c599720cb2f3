import Foundation
import GatehouseTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `gatehouse demo` as a child process on free ports, in a temporary directory.
final class DemoProcess: @unchecked Sendable {
    let process = Process()
    let output = Pipe()
    let gatewayPort: Int
    let idpPort: Int
    let appPort: Int
    let directory: URL

    /// The `gatehouse` executable next to the test bundle (`swift build --build-tests` builds
    /// both), or `GATEHOUSE_BINARY`.
    static var executable: URL? {
        if let path = ProcessInfo.processInfo.environment["GATEHOUSE_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("gatehouse")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// `arguments` follow the demo's own (ports, directory); `appPort`: the whoami app's port
    /// when the caller took one already.
    init(executable: URL, arguments: [String] = [], appPort: Int? = nil) throws {
        let ports = try (0..<2).map { _ in try ReservedPort.take() }
        (gatewayPort, idpPort) = (ports[0], ports[1])
        self.appPort = try appPort ?? ReservedPort.take()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-demo-\(UUID().uuidString)")
        process.executableURL = executable
        process.arguments = [
            "demo", "--gateway-port", "\(gatewayPort)", "--idp-port", "\(idpPort)", "--app-port", "\(self.appPort)",
            "--directory", directory.path,
        ] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try ProcessLaunch.start(process)
    }

    /// SIGINT, then the exit status once the process has stopped.
    func interrupt() async -> Int32 {
        process.interrupt()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        return process.terminationStatus
    }

    /// Everything the demo printed (call after it exited).
    func printed() -> String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }

}
