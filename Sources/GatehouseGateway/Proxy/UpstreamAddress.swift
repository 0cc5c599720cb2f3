/// The upstream's address when it is plain `http://`: what the NIO-level parts of the proxy
/// (``DirectProxyHandler``, ``WebSocketPassThrough``) connect to themselves.
struct UpstreamAddress: Sendable, Equatable {
    let host: String
    let port: Int
    /// `host[:port]` as sent in `Host`.
    let authority: String
    /// The upstream URL's path prefix, without a trailing slash.
    let basePath: String

    /// `nil` unless `url` is `http://host[:port][/path]`.
    init?(url: String) {
        guard url.lowercased().hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var basePath = String(rest.dropFirst(authority.count))
        while basePath.hasSuffix("/") { basePath.removeLast() }
        let host: Substring
        let port: Int
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            port = after.hasPrefix(":") ? (Int(after.dropFirst()) ?? -1) : 80
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = Int(authority[authority.index(after: colon)...]) ?? -1
        } else {
            host = authority
            port = 80
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
        self.authority = String(authority)
        self.basePath = basePath
    }
}
