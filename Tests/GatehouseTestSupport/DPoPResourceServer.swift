import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The independent RFC 9449 resource server (`scripts/dpop-rs/dpop_rs.py`, Python and joserfc,
/// no code shared with Gatehouse) as a child process on a free loopback port, for one test.
///
/// It runs on the repository's `.venv/bin/python` (made by `scripts/start-idp.sh`, with
/// `scripts/dpop-rs/requirements.txt` installed); when either is missing, ``with(issuer:arguments:_:)``
/// throws a ``Failure`` that says how to install it — the tests fail, they never skip.
public final class DPoPResourceServer: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `http://127.0.0.1:<port>`, the origin the server was reached at (and its proofs' `htu`).
    public let baseURL: String
    public let port: Int
    private let process: Process
    private let logFile: URL

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let python = root.appendingPathComponent(".venv/bin/python")
    static let script = root.appendingPathComponent("scripts/dpop-rs/dpop_rs.py")
    static let install =
        "run scripts/start-idp.sh (it creates .venv) and .venv/bin/python -m pip install -r scripts/dpop-rs/requirements.txt"

    private init(process: Process, port: Int, logFile: URL) {
        self.process = process
        self.port = port
        self.logFile = logFile
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// Runs `body` against a server that accepts `issuer`'s access tokens; `arguments` are more
    /// of its options (`--iat-window 30`, `--require-nonce false`). The process stops afterwards.
    public static func with<T: Sendable>(
        issuer: String, arguments: [String] = [], _ body: (DPoPResourceServer) async throws -> T
    ) async throws -> T {
        let server = try await start(issuer: issuer, arguments: arguments)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// What the server wrote on stderr so far: one line per request (never a token).
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    private static func start(issuer: String, arguments: [String]) async throws -> DPoPResourceServer {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure(description: "DPoP resource server: no Python interpreter at \(python.path): \(install)")
        }
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("dpop-rs-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw Failure(description: "DPoP resource server: cannot create \(logFile.path)")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path, "--issuer", issuer, "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: logFile)
        try ProcessLaunch.start(process)
        // The first line is `PORT <n>`; end of file instead means the process died (a missing
        // joserfc is the usual reason), and its stderr says why.
        let line = await firstLine(of: output.fileHandleForReading)
        guard let port = line.flatMap({ $0.hasPrefix("PORT ") ? Int($0.dropFirst(5)) : nil }) else {
            await stop(process)
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: logFile)
            let hint = log.contains("No module named") ? " (\(install))" : ""
            throw Failure(description: "DPoP resource server did not start\(hint): \(line ?? "no output"); stderr: \(log)")
        }
        return DPoPResourceServer(process: process, port: port, logFile: logFile)
    }

    /// Reads up to the first newline, off the cooperative pool (the read blocks).
    private static func firstLine(of handle: FileHandle) async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    guard let byte = chunk.first else { break }
                    if byte == UInt8(ascii: "\n") { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    private func stop() async {
        await Self.stop(process)
        try? FileManager.default.removeItem(at: logFile)
    }

    /// SIGTERM, then SIGKILL after 5 s. Polls rather than `waitUntilExit()`, which on Linux
    /// spins a run loop on the calling thread and can starve the cooperative pool.
    private static func stop(_ process: Process) async {
        if process.isRunning { process.terminate() }
        for attempt in 0..<200 where process.isRunning {
            if attempt == 100 { kill(process.processIdentifier, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
