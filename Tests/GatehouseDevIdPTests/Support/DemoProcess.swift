import Foundation
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

    init(executable: URL) throws {
        let ports = try (0..<3).map { _ in try Self.freePort() }
        (gatewayPort, idpPort, appPort) = (ports[0], ports[1], ports[2])
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-demo-\(UUID().uuidString)")
        process.executableURL = executable
        process.arguments = [
            "demo", "--gateway-port", "\(gatewayPort)", "--idp-port", "\(idpPort)", "--app-port", "\(appPort)",
            "--directory", directory.path,
        ]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
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

    /// A port nothing listens on right now (bound to 0, read back, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestBrowser.Failure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestBrowser.Failure("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
