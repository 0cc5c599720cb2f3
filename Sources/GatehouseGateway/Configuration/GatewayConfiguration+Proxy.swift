extension GatewayConfiguration {
    /// The authority (host and port, as written) of `GATEHOUSE_PUBLIC_URL`: what the upstream
    /// receives as `X-Forwarded-Host` unless a trusted proxy states one.
    public var publicHost: String {
        var rest = Substring(publicURL)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        return String(rest.prefix { $0 != "/" })
    }
}
