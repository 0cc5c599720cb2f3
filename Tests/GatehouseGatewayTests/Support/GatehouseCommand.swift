import Foundation

/// The built `gatehouse` binary, for the tests that run its commands, and a scratch directory
/// for each.
enum GatehouseCommand {
    /// `.build/debug/gatehouse`, found from this file's path (`swift build --build-tests` builds it).
    static func executable() throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let binary = root.appendingPathComponent(".build/debug/gatehouse")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestServer.Failure("\(binary.path) is missing: run `swift build --build-tests` first")
        }
        return binary
    }

    /// A fresh temporary directory for `body`, removed afterwards.
    static func withDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-check-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }
}
