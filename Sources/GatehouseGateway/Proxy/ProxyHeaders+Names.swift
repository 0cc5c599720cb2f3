extension ProxyHeaders {
    /// Fields the gateway sets itself: whatever a client (or a proxy in front) sent is dropped.
    /// `X-Forwarded-Access-Token` is oauth2-proxy's name for the user's token and
    /// `X-Forwarded-Provider` the gateway's own (DESIGN §2); both would pass from a trusted
    /// proxy under the `X-Forwarded-*` rule otherwise.
    static let gatewayOwnedNames = [
        "host", "content-length", "x-forwarded-user", "x-forwarded-email", "x-forwarded-preferred-username",
        "x-forwarded-groups", "x-forwarded-access-token", "x-forwarded-provider",
    ]

    /// The identity fields of other auth proxies and platforms, which an upstream built for
    /// one of them may believe (DESIGN §4). Only the gateway says who a request is for, so
    /// they are dropped from everyone, trusted proxies included: a trusted proxy vouches for
    /// the network path (address, scheme, host), not for a user.
    static let identityNames = [
        // Authelia, Authentik, Caddy/Traefik forward-auth recipes, Django's RemoteUserMiddleware.
        "remote-user", "remote-email", "remote-groups", "remote-name", "remote-preferred-username",
        // Kubernetes front proxy and Apache-style conventions.
        "x-remote-user", "x-remote-group", "x-remote-email", "x-remote-name",
        // Kong.
        "x-authenticated-user", "x-authenticated-userid", "x-authenticated-email", "x-authenticated-groups",
        "x-authenticated-scope", "x-consumer-id", "x-consumer-username", "x-consumer-custom-id",
        "x-credential-identifier", "x-anonymous-consumer",
        // Grafana's auth proxy and other common spellings.
        "x-webauth-user", "x-webauth-email", "x-webauth-name", "x-webauth-groups", "x-webauth-role",
        "x-auth-user", "x-auth-email", "x-auth-groups", "x-auth-username",
        "x-user", "x-user-id", "x-user-email", "x-user-name", "x-user-groups", "x-username", "x-email", "x-groups",
        // Google IAP, AWS ALB, Cloudflare Access.
        "x-goog-authenticated-user-email", "x-goog-authenticated-user-id", "x-goog-iap-jwt-assertion",
        "x-amzn-oidc-identity", "x-amzn-oidc-data", "x-amzn-oidc-accesstoken",
        "cf-access-authenticated-user-email", "cf-access-jwt-assertion",
    ]

    /// Whole families of identity fields: oauth2-proxy (`X-Auth-Request-User`, `-Email`,
    /// `-Groups`, `-Preferred-Username`, `-Access-Token`, …), Kubernetes' `X-Remote-Extra-*`,
    /// Authentik, Pomerium, Vouch, Azure App Service. Each starts with `x-` (a test checks),
    /// so names that do not are never compared against them.
    static let identityPrefixes = [
        "x-auth-request-", "x-remote-extra-", "x-authentik-", "x-pomerium-", "x-vouch-", "x-ms-client-principal",
        "x-ms-token-",
    ]

    /// Where the client is, how it connected and what it asked for, as proxies, CDNs and
    /// load balancers state it: an upstream may believe them (rate limits, allow-lists,
    /// logs, routing on `X-Original-URL`), so they pass only from `GATEHOUSE_TRUSTED_PROXIES`.
    /// Every other `X-Forwarded-*` is handled by ``isOtherForwardingField(_:)``.
    static let trustedOnlyNames = [
        "forwarded", "x-forwarded", "x-real-ip", "x-client-ip", "client-ip", "true-client-ip", "cf-connecting-ip",
        "cf-connecting-ipv6", "fastly-client-ip", "x-cluster-client-ip", "x-original-forwarded-for",
        "x-originating-ip", "x-remote-ip", "x-remote-addr", "x-proxyuser-ip", "x-envoy-external-address",
        "x-azure-clientip", "x-azure-socketip", "x-appengine-user-ip",
        // The original request, which some frameworks route on instead of the request line.
        "x-original-url", "x-rewrite-url", "x-original-uri", "x-original-host", "x-host", "front-end-https",
        // A TLS-terminating proxy's client certificate.
        "x-ssl-client-dn", "x-ssl-client-verify", "x-ssl-client-cert", "x-client-cert", "x-client-verify",
        "ssl-client-cert", "ssl-client-verify",
    ]
}

/// Field names looked up in any ASCII letter case without lowercasing them into a new string:
/// bucketed by length and first letter, then compared byte by byte (this runs for every
/// field of every proxied request). With `dashForUnderscore`, `_` and `-` count as the same
/// byte (CGI, WSGI, PHP and Rack read both spellings as one variable).
struct FieldNameTable<Value: Sendable>: Sendable {
    private var buckets: [[(name: [UInt8], value: Value)]]
    private let dashForUnderscore: Bool
    private(set) var isEmpty = true

    /// `entries` by name in any letter case (stored folded).
    init(_ entries: some Sequence<(String, Value)>, dashForUnderscore: Bool = false) {
        self.dashForUnderscore = dashForUnderscore
        let folded = entries.map { name, value in
            (name: name.utf8.map { Self.fold($0, dashForUnderscore: dashForUnderscore) }, value: value)
        }
        let longest = folded.map(\.name.count).max() ?? 0
        buckets = Array(repeating: [], count: (longest + 1) << 5)
        for entry in folded where !entry.name.isEmpty {
            buckets[Self.bucket(count: entry.name.count, first: entry.name[0])].append(entry)
            isEmpty = false
        }
    }

    func value(forName name: String) -> Value? {
        let utf8 = name.utf8
        guard let first = utf8.first else { return nil }
        let index = Self.bucket(count: utf8.count, first: Self.fold(first, dashForUnderscore: dashForUnderscore))
        guard index < buckets.count else { return nil }
        for candidate in buckets[index] where Self.matches(utf8, candidate.name, dashForUnderscore: dashForUnderscore) {
            return candidate.value
        }
        return nil
    }

    func contains(_ name: String) -> Bool { value(forName: name) != nil }

    private static func bucket(count: Int, first: UInt8) -> Int { count << 5 | Int(first & 0x1F) }

    /// ASCII lower case (and `_` as `-` when asked).
    @inline(__always)
    static func fold(_ byte: UInt8, dashForUnderscore: Bool) -> UInt8 {
        if byte &- UInt8(ascii: "A") < 26 { return byte | 0x20 }
        if dashForUnderscore, byte == UInt8(ascii: "_") { return UInt8(ascii: "-") }
        return byte
    }

    private static func matches(_ name: String.UTF8View, _ folded: [UInt8], dashForUnderscore: Bool) -> Bool {
        var expected = folded.makeIterator()
        for byte in name {
            guard let next = expected.next(), fold(byte, dashForUnderscore: dashForUnderscore) == next else {
                return false
            }
        }
        return expected.next() == nil
    }
}
