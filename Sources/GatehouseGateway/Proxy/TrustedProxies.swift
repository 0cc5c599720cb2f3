/// `GATEHOUSE_TRUSTED_PROXIES`: the peers whose `X-Forwarded-*` headers are believed, as CIDRs
/// (`10.0.0.0/8`, `fd00::/8`) or single addresses.
public struct TrustedProxies: Sendable {
    struct Range: Sendable {
        var bytes: [UInt8]
        var prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefixLength
            for index in bytes.indices where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if address[index] & mask != bytes[index] & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    let ranges: [Range]

    init(ranges: [Range]) {
        self.ranges = ranges
    }

    /// Parses CIDRs; throws naming `GATEHOUSE_TRUSTED_PROXIES` and the bad entry.
    public init(parsing entries: [String]) throws {
        var ranges: [Range] = []
        for entry in entries {
            let parts = entry.split(separator: "/", maxSplits: 1)
            guard let address = parts.first.flatMap({ IPAddressText.parse(String($0)) }) else {
                throw ConfigurationError("GATEHOUSE_TRUSTED_PROXIES", "\"\(entry)\" is not an IP address or CIDR")
            }
            var prefix = address.count * 8
            if parts.count == 2 {
                guard let length = Int(parts[1]), (0...address.count * 8).contains(length) else {
                    throw ConfigurationError("GATEHOUSE_TRUSTED_PROXIES", "\"\(entry)\" has a bad prefix length")
                }
                prefix = length
            }
            ranges.append(Range(bytes: address, prefixLength: prefix))
        }
        self.ranges = ranges
    }

    /// Whether the peer at `ip` is a trusted proxy. `nil` (no IP) never is.
    public func trusts(_ ip: String?) -> Bool {
        guard !ranges.isEmpty, let ip, let address = IPAddressText.parse(ip) else { return false }
        let candidates = [address] + (IPAddressText.unmappedIPv4(address).map { [$0] } ?? [])
        return ranges.contains { range in candidates.contains(where: range.contains) }
    }
}
