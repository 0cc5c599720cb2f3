import GatehouseHummingbird

extension GatewayConfiguration {
    /// `GATEHOUSE_MAX_PENDING_LOGINS` and `GATEHOUSE_MAX_PENDING_LOGINS_PER_CLIENT`: whole
    /// numbers, at least 1.
    static func pendingLogins(_ values: ConfigValues) throws -> (total: Int, perClient: Int) {
        let defaults = PendingLoginLimits()
        return (
            try count(values, "MAX_PENDING_LOGINS") ?? defaults.maxPending,
            try count(values, "MAX_PENDING_LOGINS_PER_CLIENT") ?? defaults.maxPendingPerClient
        )
    }

    private static func count(_ values: ConfigValues, _ key: String) throws -> Int? {
        guard let text = values.string(key) else { return nil }
        guard let number = Int(text), number >= 1 else {
            throw ConfigurationError("GATEHOUSE_" + key, "must be a whole number of at least 1")
        }
        return number
    }

    /// The caps on logins in flight, counting clients by the address
    /// ``TrustedProxies/clientAddress(peerIP:forwardedFor:)`` finds (`X-Forwarded-For` only
    /// from ``trustedProxies``).
    var pendingLoginLimits: PendingLoginLimits {
        let trustedProxies = self.trustedProxies
        return PendingLoginLimits(
            maxPending: maxPendingLogins, maxPendingPerClient: maxPendingLoginsPerClient,
            clientAddress: { request, peerIP in trustedProxies.clientAddress(peerIP: peerIP, fields: request.headers) })
    }
}
