public import Foundation

/// Starts child processes one at a time. Foundation's `Process.run()` on Linux is not safe
/// to call from several threads at once (a CI run crashed in its `memmove` while tests started
/// nginx, the gateway and `gatehouse` subcommands in parallel); every test launch goes here.
public enum ProcessLaunch {
    private static let lock = NSLock()

    /// `process.run()`, under the one lock.
    public static func start(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        try process.run()
    }
}
