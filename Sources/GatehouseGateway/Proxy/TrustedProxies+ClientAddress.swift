import HTTPTypes

extension TrustedProxies {
    /// The address of the client behind the TCP peer at `peerIP`: the peer itself, unless it
    /// is a trusted proxy; then the right-most `X-Forwarded-For` entry that is not a trusted
    /// proxy (each trusted hop appends the address it was connected from, so entries further
    /// left are whatever the client wrote). `nil` without a peer address.
    public func clientAddress(peerIP: String?, forwardedFor values: [String]) -> String? {
        guard let peerIP, trusts(peerIP) else { return peerIP }
        var client = peerIP
        for value in values.reversed() {
            for entry in value.split(separator: ",").reversed() {
                let address = entry.trimmingWhitespace()
                guard !address.isEmpty else { continue }
                client = address
                if !trusts(address) { return client }
            }
        }
        return client
    }

    /// The same for a request's `X-Forwarded-For` fields.
    func clientAddress(peerIP: String?, fields: HTTPFields) -> String? {
        guard let name = HTTPField.Name("X-Forwarded-For") else { return peerIP }
        return clientAddress(peerIP: peerIP, forwardedFor: fields[values: name])
    }
}
