import Foundation
import GatehouseTestSupport
import GRDB
@testable import GatehouseStore
@testable import GatehouseSQLite
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process killed with SIGKILL in the middle of a write loop loses nothing it reported as
/// committed, and leaves a SQLite file that passes `PRAGMA integrity_check`.
@Suite struct KillNineTests {
    /// `.build/debug/gatehouse`, found from this file's path (Tests/GatehouseStoreTests/…).
    static var executable: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/gatehouse")
    }

    @Test func committedSessionsSurviveKillNine() async throws {
        let binary = Self.executable
        try #require(
            FileManager.default.isExecutableFile(atPath: binary.path),
            "\(binary.path) is missing: build it first (`swift build`, or `swift build --build-tests` builds it too)")
        try await TemporaryDirectory.with { directory in
            let path = directory.appendingPathComponent("killed.sqlite").path
            let process = Process()
            process.executableURL = binary
            process.arguments = ["debug-write-loop", "--sqlite", path]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try ProcessLaunch.start(process)
            let pid = process.processIdentifier
            // Safety net only (no assertion depends on time): never hang the test run.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(300))
                kill(pid, SIGKILL)
            }
            defer { watchdog.cancel() }
            let reader = LineReader(descriptor: output.fileHandleForReading.fileDescriptor)
            let early = await reader.readLines(atLeast: 200)
            kill(pid, SIGKILL)
            process.waitUntilExit()
            // Lines written after we stopped reading were committed too.
            let late = await reader.readLines(atLeast: Int.max)
            let printed = early.lines + late.lines
            try #require(
                early.lines.count >= 200,
                "the write loop printed \(early.lines.count) lines, then: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))"
            )
            #expect(process.terminationReason == .uncaughtSignal)

            let driver = try SQLiteDriver(path: path)
            try await driver.migrate()
            for line in printed {
                let hash = try #require(Self.hash(hex: line), "not a hash: \(line)")
                #expect(try await driver.session(hash) != nil, "committed session \(hash) is missing")
            }
            let check = try await driver.pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            #expect(check == ["ok"])
        }
    }

    static func hash(hex: String) -> SessionHash? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return SessionHash(bytes: bytes)
    }
}

/// Reads newline-terminated lines from a descriptor on a thread of its own (blocking reads
/// never occupy the cooperative pool).
final class LineReader: Sendable {
    let descriptor: Int32

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Reads one byte at a time, so nothing past the last returned line is consumed. Complete lines until `atLeast` have been read or the pipe ends; `partial` is an
    /// unterminated tail at the end of the pipe.
    func readLines(atLeast count: Int) async -> (lines: [String], partial: String) {
        await withCheckedContinuation { continuation in
            let descriptor = self.descriptor
            Thread.detachNewThread {
                var lines: [String] = []
                var pending: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 1)
                while lines.count < count {
                    let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 1) }
                    if got <= 0 { break }
                    if buffer[0] == UInt8(ascii: "\n") {
                        lines.append(String(decoding: pending, as: UTF8.self))
                        pending.removeAll(keepingCapacity: true)
                    } else {
                        pending.append(buffer[0])
                    }
                }
                continuation.resume(returning: (lines, String(decoding: pending, as: UTF8.self)))
            }
        }
    }
}
