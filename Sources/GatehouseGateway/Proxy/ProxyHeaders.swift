import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import HTTPTypes
import NIOHTTP1

/// The header rules of the reverse proxy (RFC 9110 §7.6.1 hop-by-hop fields; DESIGN §1–§2
/// identity and forwarding headers, §4 other proxies' identity and client-address fields).
/// Run on every proxied request: one table lookup per field (names in
/// `ProxyHeaders+Names.swift`), and cookies filtered without splitting when none of them is
/// Gatehouse's.
enum ProxyHeaders {
    /// What the proxy does with a field, by its lowercase name.
    enum Rule {
        /// Describes one connection (RFC 9110 §7.6.1): never forwarded in either direction.
        case hopByHop
        /// Set by the gateway itself: whatever a client sent is dropped.
        case gatewayOwned
        /// Another auth proxy's identity field (``identityNames``, ``identityPrefixes``):
        /// dropped whoever sent it.
        case identity
        /// `X-Forwarded-For/-Proto/-Host`: replaced; a trusted proxy's values are extended.
        case forwarding
        /// `Forwarded`, client addresses and original URLs (``trustedOnlyNames``): kept only
        /// from a trusted proxy.
        case trustedOnly
        case cookie
        case authorization
    }

    /// A deployment's additions to the fixed rules.
    struct Settings: Sendable {
        /// Reported in `X-Forwarded-Host` unless a trusted proxy states one: the host (and
        /// port) of `GATEHOUSE_PUBLIC_URL`, never a client's arbitrary `Host`. `nil` (a
        /// ``ReverseProxy`` made without one): the request's `Host`.
        var publicHost: String?
        /// `GATEHOUSE_STRIP_REQUEST_HEADERS`: more fields never forwarded from anyone, in any
        /// letter case and with `_` for `-`.
        var stripped: FieldNameTable<Bool>

        init(publicHost: String? = nil, stripped names: [String] = []) {
            self.publicHost = publicHost
            self.stripped = FieldNameTable(names.map { ($0, true) }, dashForUnderscore: true)
        }

        /// Nothing added.
        static let none = Settings()
    }

    static let rules: [String: Rule] = {
        var rules: [String: Rule] = [:]
        for name in [
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade",
        ] { rules[name] = .hopByHop }
        for name in gatewayOwnedNames { rules[name] = .gatewayOwned }
        for name in identityNames { rules[name] = .identity }
        for name in ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"] { rules[name] = .forwarding }
        for name in trustedOnlyNames { rules[name] = .trustedOnly }
        rules["cookie"] = .cookie
        rules["authorization"] = .authorization
        // A client's DPoP proof goes with its own Authorization, and goes when that goes.
        rules["dpop"] = .authorization
        return rules
    }()

    /// ``rules`` for ``rule(forName:)``.
    static let ruleTable = FieldNameTable(rules.map { ($0.key, $0.value) })

    /// ``identityPrefixes`` as bytes.
    static let identityPrefixBytes = identityPrefixes.map { Array($0.utf8) }

    /// ``rules`` for a field name in any letter case, without lowercasing it into a new string.
    /// (This runs for every field of every proxied request; a test checks it against
    /// `rules[name.lowercased()]`.)
    static func rule(forName name: String) -> Rule? {
        ruleTable.value(forName: name)
    }

    /// ``rule(forName:)``, then the name families: ``identityPrefixes`` and (unless
    /// `trusted`) the other `X-Forwarded-*` fields.
    static func fullRule(forName name: String) -> Rule? {
        if let rule = ruleTable.value(forName: name) { return rule }
        // Every family starts with `x-`: other names cost two byte compares.
        guard hasPrefixIgnoringASCIICase(name, "x-".utf8) else { return nil }
        if identityPrefixBytes.contains(where: { hasPrefixIgnoringASCIICase(name, $0) }) { return .identity }
        if isOtherForwardingField(name) { return .trustedOnly }
        return nil
    }

    /// Whether `name` is `lowercase` (lower-case ASCII bytes) in any ASCII letter case.
    static func equalsIgnoringASCIICase(_ name: String, _ lowercase: some Collection<UInt8>) -> Bool {
        name.utf8.count == lowercase.count && hasPrefixIgnoringASCIICase(name, lowercase)
    }

    /// Whether `name` starts with `lowercase` (lower-case ASCII bytes) in any ASCII letter case.
    static func hasPrefixIgnoringASCIICase(_ name: String, _ lowercase: some Collection<UInt8>) -> Bool {
        var expected = lowercase.makeIterator()
        for byte in name.utf8 {
            guard let next = expected.next() else { return true }
            let folded = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
            guard folded == next else { return false }
        }
        return expected.next() == nil
    }

    /// The names listed in `Connection` (also hop-by-hop, RFC 9110 §7.6.1).
    static func connectionListed(_ values: some Sequence<String>) -> Set<String> {
        var names: Set<String> = []
        for value in values {
            for name in value.split(separator: ",") { names.insert(name.trimmingWhitespace().lowercased()) }
        }
        return names
    }

    /// What the upstream receives, after `Host` and before the body framing: the client's
    /// end-to-end fields, minus Gatehouse's cookies, the identity fields (the gateway's and
    /// other auth proxies', ``identityNames``), `settings.stripped`, the `_` aliases of all
    /// those, and (unless `trusted`) every `X-Forwarded-*`, `Forwarded`, `X-Real-IP` and other
    /// client-address field a client sent (``trustedOnlyNames``); plus
    /// `X-Forwarded-For/-Proto/-Host`, the identity of `principal`, and the session's access
    /// token when `passAccessToken` is set. `X-Forwarded-Host` is a trusted proxy's, else
    /// `settings.publicHost`.
    ///
    /// A client's own `Authorization` reaches the upstream unchanged when `passAccessToken` is
    /// off, or when it is the bearer token that authenticated the request. With
    /// `passAccessToken` on it is otherwise always removed — also on skip-auth paths without a
    /// session — so an upstream that trusts the gateway's bearer never sees a client's. With a
    /// `serviceToken` (a `token: client_credentials` route) it is always removed and the
    /// service token sent instead.
    ///
    /// - Parameters:
    ///   - fields: the client's fields in any letter case (NIO's `HTTPHeaders`, or Swift HTTP
    ///     Types fields by canonical name); `Host`, if present, is dropped.
    ///   - authority: the client's `Host` when `fields` does not carry it (Swift HTTP Types).
    static func request(
        fields: some Sequence<(name: String, value: String)>, authority: String?, peerIP: String?, trusted: Bool,
        defaultScheme: String, settings: Settings = .none, principal: ProxyPrincipal, passAccessToken: Bool,
        identityHeaders: Bool = true, serviceToken: String? = nil, into result: inout HTTPHeaders
    ) {
        // Fields named in `Connection` are hop-by-hop too (RFC 9110 §7.6.1).
        var listed: Set<String> = []
        for (rawName, value) in fields where equalsIgnoringASCIICase(rawName, "connection".utf8) {
            listed.formUnion(connectionListed(CollectionOfOne(value)))
        }
        listed.subtract(["close", "keep-alive"])
        var host = authority
        var forwardedFor: String?, forwardedProto: String?, forwardedHost: String?
        var cookies: String?
        for (rawName, value) in fields {
            if !listed.isEmpty, listed.contains(lowercasedASCII(rawName)) { continue }
            let rule = fullRule(forName: rawName)
            // The deployment's list (`Host` stays the gateway's to read).
            if !settings.stripped.isEmpty, rule != .gatewayOwned, settings.stripped.contains(rawName) { continue }
            switch rule {
            case .hopByHop?, .identity?:
                continue
            case .gatewayOwned?:
                if host == nil, equalsIgnoringASCIICase(rawName, "host".utf8) { host = value }
                continue
            case .forwarding?:
                if trusted {
                    switch lowercasedASCII(rawName) {
                    case "x-forwarded-for": forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
                    case "x-forwarded-proto": forwardedProto = forwardedProto.map { $0 + ", " + value } ?? value
                    default: forwardedHost = forwardedHost.map { $0 + ", " + value } ?? value
                    }
                }
                continue
            case .trustedOnly?: if !trusted { continue }
            case .authorization?: if serviceToken != nil || (passAccessToken && !principal.isBearer) { continue }
            case .cookie?:
                if let kept = withoutGatehouseCookies(value) { cookies = cookies.map { $0 + "; " + kept } ?? kept }
                continue
            case nil:
                if rawName.utf8.contains(UInt8(ascii: "_")), isUnderscoreAlias(rawName) { continue }
            }
            result.add(name: rawName, value: value)
        }
        if let cookies { result.add(name: "Cookie", value: cookies) }
        if let peerIP { result.add(name: "X-Forwarded-For", value: forwardedFor.map { $0 + ", " + peerIP } ?? peerIP) }
        result.add(name: "X-Forwarded-Proto", value: forwardedProto ?? defaultScheme)
        if let host = forwardedHost ?? settings.publicHost ?? host { result.add(name: "X-Forwarded-Host", value: host) }
        if identityHeaders, let identity = principal.identity {
            for (name, value) in IdentityHeaders.values(for: identity, provider: principal.provider) {
                // Through HTTPField, which neutralises characters a claim must not smuggle in.
                result.add(name: name.rawName, value: HTTPField(name: name, value: value).value)
            }
        }
        if let serviceToken {
            result.add(name: "Authorization", value: "Bearer " + serviceToken)
        } else if passAccessToken, case .session(let session) = principal {
            // A DPoP-bound token is useless as a bearer: the caller adds its proof (UpstreamDPoP).
            let scheme = session.tokens.dpopKey == nil ? "Bearer " : "DPoP "
            result.add(name: "Authorization", value: scheme + session.tokens.accessToken)
        }
    }

    /// The same for a Swift HTTP Types request (the router's side), as a new list.
    static func request(
        _ request: HTTPRequest, peerIP: String?, trusted: Bool, defaultScheme: String, settings: Settings = .none,
        principal: ProxyPrincipal, passAccessToken: Bool, identityHeaders: Bool = true, serviceToken: String? = nil
    ) -> HTTPHeaders {
        var result = HTTPHeaders()
        result.reserveCapacity(request.headerFields.count + 8)
        Self.request(
            fields: request.headerFields.lazy.map { (name: $0.name.rawName, value: $0.value) },
            authority: request.authority, peerIP: peerIP, trusted: trusted, defaultScheme: defaultScheme,
            settings: settings, principal: principal, passAccessToken: passAccessToken, identityHeaders: identityHeaders,
            serviceToken: serviceToken, into: &result)
        return result
    }

    /// `X-Forwarded-*` fields the table does not name (`-Port`, `-Prefix`, `-Ssl`, `-Uri`, …)
    /// and `X-Real-IP`: an upstream may believe them as it believes `X-Forwarded-For`, so
    /// they pass only from a trusted proxy (DESIGN §4).
    static func isOtherForwardingField(_ name: String) -> Bool {
        hasPrefixIgnoringASCIICase(name, "x-forwarded-".utf8) || equalsIgnoringASCIICase(name, "x-real-ip".utf8)
    }

    /// A name with `_` that becomes one of the fields the proxy sets, strips or believes only
    /// from trusted proxies once `_` is read as `-`. CGI, WSGI, PHP and Rack map both
    /// spellings to the same variable, so `X_Forwarded_User` or `Remote_User` would pose as an
    /// identity header (an oauth2-proxy advisory); such aliases never pass, not even from a
    /// trusted proxy.
    static func isUnderscoreAlias(_ name: String) -> Bool {
        let dashed = String(decoding: name.utf8.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 }, as: UTF8.self)
        return fullRule(forName: dashed) != nil
    }

    /// `name` in lower case; without a copy when it already is (the usual case).
    static func lowercasedASCII(_ name: String) -> String {
        name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? name.lowercased() : name
    }

    /// A `Cookie` value without Gatehouse's cookies, pairs separated by `"; "`; `nil` when
    /// nothing is left. Scans bytes and builds one string (this runs on every request).
    static func withoutGatehouseCookies(_ value: String) -> String? {
        let utf8 = value.utf8
        var result = ""
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex
            let pair = utf8[start..<end].drop { $0 == UInt8(ascii: " ") }
            start = end < utf8.endIndex ? utf8.index(after: end) : end
            guard !pair.isEmpty, !isGatehouseCookie(pair.prefix { $0 != UInt8(ascii: "=") }) else { continue }
            if !result.isEmpty { result += "; " }
            result += Substring(pair)
        }
        return result.isEmpty ? nil : result
    }

    /// ``AuthCookies/isGatehouseCookie(_:)`` on a name's bytes: `gatehouse`,
    /// `gatehouse-loop` or `gatehouse-login-…`, with or without `__Host-` or `__Secure-`.
    static func isGatehouseCookie(_ name: Substring.UTF8View.SubSequence) -> Bool {
        var name = name[...]
        if name.starts(with: "__Host-".utf8) { name = name.dropFirst(7) }
        if name.starts(with: "__Secure-".utf8) { name = name.dropFirst(9) }
        guard name.starts(with: "gatehouse".utf8) else { return false }
        let rest = name.dropFirst(9)
        return rest.isEmpty || rest.elementsEqual("-loop".utf8) || rest.starts(with: "-login-".utf8)
    }

    /// What the client receives from the upstream's answer: end-to-end fields only, and no
    /// `Set-Cookie` that would overwrite one of Gatehouse's cookies.
    static func response(_ upstream: HTTPHeaders) -> HTTPHeaders {
        var listed: Set<String> = []
        let hasConnection = upstream.contains(name: "connection")
        if hasConnection { listed = connectionListed(upstream[canonicalForm: "connection"].map(String.init)) }
        var fields = HTTPHeaders()
        fields.reserveCapacity(upstream.count)
        for (rawName, value) in upstream {
            if case .hopByHop? = rule(forName: rawName) { continue }
            if hasConnection, listed.contains(lowercasedASCII(rawName)) { continue }
            if equalsIgnoringASCIICase(rawName, "set-cookie".utf8),
                AuthCookies.isGatehouseCookie(value.prefix { $0 != "=" }.trimmingWhitespace())
            {
                continue
            }
            fields.add(name: rawName, value: value)
        }
        return fields
    }

    /// The same as Swift HTTP Types fields (for Hummingbird's responses); names that are not
    /// valid field names are dropped.
    static func responseFields(_ upstream: HTTPHeaders) -> HTTPFields {
        let kept = response(upstream)
        var fields = HTTPFields()
        fields.reserveCapacity(kept.count)
        for (name, value) in kept {
            guard let fieldName = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }
}

extension HTTPField.Name {
    // Valid literal field names: the initialiser cannot fail.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
}
