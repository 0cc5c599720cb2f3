import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import HTTPTypes
import NIOHTTP1

/// The header rules of the reverse proxy (RFC 9110 §7.6.1 hop-by-hop fields; DESIGN §1–§2
/// identity and forwarding headers). Run on every proxied request: one table lookup per
/// field, and cookies filtered without splitting when none of them is Gatehouse's.
enum ProxyHeaders {
    /// What the proxy does with a field, by its lowercase name.
    enum Rule {
        /// Describes one connection (RFC 9110 §7.6.1): never forwarded in either direction.
        case hopByHop
        /// Set by the gateway itself: whatever a client sent is dropped.
        case gatewayOwned
        /// `X-Forwarded-For/-Proto/-Host`: replaced; a trusted proxy's values are extended.
        case forwarding
        /// `Forwarded`: kept only from a trusted proxy.
        case forwarded
        case cookie
        case authorization
    }

    static let rules: [String: Rule] = {
        var rules: [String: Rule] = [:]
        for name in [
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade",
        ] { rules[name] = .hopByHop }
        for name in [
            "host", "content-length", "x-forwarded-user", "x-forwarded-email", "x-forwarded-preferred-username",
            "x-forwarded-groups",
        ] { rules[name] = .gatewayOwned }
        for name in ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"] { rules[name] = .forwarding }
        rules["forwarded"] = .forwarded
        rules["cookie"] = .cookie
        rules["authorization"] = .authorization
        return rules
    }()

    /// The names listed in `Connection` (also hop-by-hop, RFC 9110 §7.6.1).
    static func connectionListed(_ values: some Sequence<String>) -> Set<String> {
        var names: Set<String> = []
        for value in values {
            for name in value.split(separator: ",") { names.insert(name.trimmingWhitespace().lowercased()) }
        }
        return names
    }

    /// What the upstream receives, after `Host` and before the body framing: the client's
    /// end-to-end fields, minus Gatehouse's cookies, the identity and (unless `trusted`)
    /// forwarding fields a client sent; plus `X-Forwarded-For/-Proto/-Host`, the identity of
    /// `principal`, and the session's access token when `passAccessToken` is set.
    ///
    /// A client's own `Authorization` reaches the upstream unchanged when `passAccessToken` is
    /// off, or when it is the bearer token that authenticated the request. With
    /// `passAccessToken` on it is otherwise always removed — also on skip-auth paths without a
    /// session — so an upstream that trusts the gateway's bearer never sees a client's.
    static func request(
        _ request: HTTPRequest, peerIP: String?, trusted: Bool, defaultScheme: String, principal: ProxyPrincipal,
        passAccessToken: Bool, into result: inout HTTPHeaders
    ) {
        let fields = request.headerFields
        let listed = fields[.connection] == nil ? [] : connectionListed(fields[values: .connection])
        var cookies: String?
        for field in fields {
            let name = field.name.canonicalName
            let rule = rules[name]
            if !listed.isEmpty, listed.contains(name) { continue }
            switch rule {
            case .hopByHop?, .gatewayOwned?, .forwarding?: continue
            case .forwarded?: if !trusted { continue }
            case .authorization?: if passAccessToken, !principal.isBearer { continue }
            case .cookie?:
                if let kept = withoutGatehouseCookies(field.value) {
                    cookies = cookies.map { $0 + "; " + kept } ?? kept
                }
                continue
            case nil: break
            }
            result.add(name: field.name.rawName, value: field.value)
        }
        if let cookies { result.add(name: "Cookie", value: cookies) }
        let forwardedFor = trusted ? fields[.xForwardedFor] : nil
        if let peerIP {
            result.add(name: "X-Forwarded-For", value: forwardedFor.map { $0 + ", " + peerIP } ?? peerIP)
        }
        let proto = trusted ? fields[.xForwardedProto] : nil
        result.add(name: "X-Forwarded-Proto", value: proto ?? defaultScheme)
        let host = (trusted ? fields[.xForwardedHost] : nil) ?? request.authority
        if let host { result.add(name: "X-Forwarded-Host", value: host) }
        if let identity = principal.identity {
            for (name, value) in IdentityHeaders.values(for: identity) {
                // Through HTTPField, which neutralises characters a claim must not smuggle in.
                result.add(name: name.rawName, value: HTTPField(name: name, value: value).value)
            }
        }
        if passAccessToken, case .session(let session) = principal {
            result.add(name: "Authorization", value: "Bearer " + session.tokens.accessToken)
        }
    }

    /// The same, as a new list.
    static func request(
        _ request: HTTPRequest, peerIP: String?, trusted: Bool, defaultScheme: String, principal: ProxyPrincipal,
        passAccessToken: Bool
    ) -> HTTPHeaders {
        var result = HTTPHeaders()
        result.reserveCapacity(request.headerFields.count + 8)
        Self.request(
            request, peerIP: peerIP, trusted: trusted, defaultScheme: defaultScheme, principal: principal,
            passAccessToken: passAccessToken, into: &result)
        return result
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
    /// `gatehouse-loop` or `gatehouse-login-…`, with or without `__Host-`.
    static func isGatehouseCookie(_ name: Substring.UTF8View.SubSequence) -> Bool {
        var name = name[...]
        if name.starts(with: "__Host-".utf8) { name = name.dropFirst(7) }
        guard name.starts(with: "gatehouse".utf8) else { return false }
        let rest = name.dropFirst(9)
        return rest.isEmpty || rest.elementsEqual("-loop".utf8) || rest.starts(with: "-login-".utf8)
    }

    /// What the client receives from the upstream's answer: end-to-end fields only, and no
    /// `Set-Cookie` that would overwrite one of Gatehouse's cookies.
    static func response(_ upstream: HTTPHeaders) -> HTTPFields {
        var connectionListed: Set<String> = []
        let hasConnection = upstream.contains(name: "connection")
        if hasConnection { connectionListed = Self.connectionListed(upstream[canonicalForm: "connection"].map(String.init)) }
        var fields = HTTPFields()
        fields.reserveCapacity(upstream.count)
        for (name, value) in upstream {
            guard let fieldName = HTTPField.Name(name) else { continue }
            let lowered = fieldName.canonicalName
            if case .hopByHop? = rules[lowered] { continue }
            if hasConnection, connectionListed.contains(lowered) { continue }
            if fieldName == .setCookie {
                let cookieName = value.prefix { $0 != "=" }.trimmingWhitespace()
                if AuthCookies.isGatehouseCookie(cookieName) { continue }
            }
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
