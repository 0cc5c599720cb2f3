#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The key a client's logins in flight are counted under: an IPv4 address as is (also when
/// written IPv4-mapped, `::ffff:192.0.2.1`), an IPv6 address by its /64 (one subscriber's
/// network: a host picks any address in it at will).
enum ClientAddressKey {
    /// `nil` when `address` is not an IP address.
    static func key(for address: String) -> String? {
        var host = Substring(address)
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if let percent = host.firstIndex(of: "%") { host = host[..<percent] }
        let text = String(host)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { ipv4($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        return withUnsafeBytes(of: &v6) { bytes in
            if bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return ipv4(UnsafeRawBufferPointer(rebasing: bytes[12..<16]))
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        }
    }

    private static func ipv4(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.map { String($0) }.joined(separator: ".")
    }
}
