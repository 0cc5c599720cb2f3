import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ports for servers whose address must be known before they start (a gateway's public URL).
///
/// Handed out from 20000–29999, below Linux's ephemeral range (32768–60999), so no server
/// that binds port 0 in a parallel test can be given one of them, and never twice in one
/// process. Each is checked free with a bind before it is returned.
public enum ReservedPort {
    private static let next = Mutex(20_000 + Int(getpid() % 5_000))

    public struct Exhausted: Error, CustomStringConvertible {
        public var description: String { "no free port in 20000-29999" }
    }

    public static func take() throws -> Int {
        for _ in 0..<1_000 {
            let candidate = next.withLock { port -> Int in
                let chosen = port
                port = port >= 29_999 ? 20_000 : port + 1
                return chosen
            }
            if isFree(candidate) { return candidate }
        }
        throw Exhausted()
    }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
