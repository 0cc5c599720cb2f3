import Foundation
import GatehouseTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `gatehouse debug-refresh-storm` as the second gateway process of a refresh test: started on
/// the shared PostgreSQL store with the test key and client secret, ready once it says so,
/// then told to go; its outcome lines (`token <fingerprint>`, `error …`) are read at the end.
/// Killed after two minutes at the latest, so a stuck child never hangs the run.
final class RefreshStormProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let reader: LineReader
    private let watchdog: Task<Void, any Error>

    /// Starts `gatehouse debug-refresh-storm ARGUMENTS` and waits until it is ready.
    init(arguments: [String]) async throws {
        let binary = KillNineTests.executable
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw Failure(description: "\(binary.path) is missing: run swift build first")
        }
        process.executableURL = binary
        process.arguments = ["debug-refresh-storm"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GATEHOUSE_ENCRYPTION_KEYS"] = TestKeys.first
        environment["GATEHOUSE_CLIENT_SECRET"] = DOT.secret
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try ProcessLaunch.start(process)
        let pid = process.processIdentifier
        watchdog = Task {
            try await Task.sleep(for: .seconds(120))
            kill(pid, SIGKILL)
        }
        reader = LineReader(descriptor: output.fileHandleForReading.fileDescriptor)
        let ready = await reader.readLines(atLeast: 1)
        guard ready.lines == ["ready"] else {
            throw Failure(description: 
                "the second process did not start: \(String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self))")
        }
    }

    func go() {
        input.fileHandleForWriting.write(Data("go\n".utf8))
    }

    /// Its outcome lines, once it has exited, and its exit status.
    func outcomes() async -> (lines: [String], status: Int32) {
        let lines = await reader.readLines(atLeast: Int.max).lines
        process.waitUntilExit()
        return (lines, process.terminationStatus)
    }

    deinit {
        watchdog.cancel()
        if process.isRunning { process.terminate() }
    }
}
