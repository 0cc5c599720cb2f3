import GatehouseHummingbird
import GatehouseOAuth
import GatehouseStore
import Hummingbird

/// The header rules of the reverse proxy (RFC 9110 §7.6.1 hop-by-hop fields; DESIGN §1–§2
/// identity and forwarding headers).
enum ProxyHeaders {
    /// Fields that describe one connection, never forwarded in either direction.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]

    /// Fields the gateway sets itself: whatever a client sent under these names is dropped
    /// (the forwarding ones are kept only from a trusted proxy, see ``request``).
    static let gatewayOwned: Set<String> = [
        "host", "content-length", "x-forwarded-user", "x-forwarded-email", "x-forwarded-preferred-username",
        "x-forwarded-groups",
    ]

    static let forwarding: Set<String> = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded"]

    /// The names listed in `Connection` (also hop-by-hop, RFC 9110 §7.6.1).
    static func connectionListed(_ fields: HTTPFields) -> Set<String> {
        var names: Set<String> = []
        for value in fields[values: .connection] {
            for name in value.split(separator: ",") { names.insert(name.trimmingWhitespace().lowercased()) }
        }
        return names
    }

    /// What the upstream receives: the client's end-to-end fields, minus Gatehouse's cookies,
    /// the identity and (unless `trusted`) forwarding fields a client sent; plus
    /// `X-Forwarded-For/-Proto/-Host`, the identity of `principal`, and the session's access
    /// token when `passAccessToken` is set.
    ///
    /// A client's own `Authorization` reaches the upstream unchanged when `passAccessToken` is
    /// off, or when it is the bearer token that authenticated the request. With
    /// `passAccessToken` on it is otherwise always removed — also on skip-auth paths without a
    /// session — so an upstream that trusts the gateway's bearer never sees a client's.
    static func request(
        _ request: HTTPRequest, peerIP: String?, trusted: Bool, defaultScheme: String, principal: ProxyPrincipal,
        passAccessToken: Bool
    ) -> [(String, String)] {
        let fields = request.headerFields
        let listed = fields[.connection] == nil ? [] : connectionListed(fields)
        var result: [(String, String)] = []
        result.reserveCapacity(fields.count + 8)
        var cookies: [Substring] = []
        for field in fields {
            let name = field.name.canonicalName
            if hopByHop.contains(name) || gatewayOwned.contains(name) || listed.contains(name) { continue }
            if forwarding.contains(name) && (!trusted || name != "forwarded") { continue }
            if name == "cookie" {
                cookies += field.value.split(separator: ";").map { $0.drop { $0 == " " } }.filter { pair in
                    !AuthCookies.isGatehouseCookie(String(pair.prefix { $0 != "=" }))
                }
                continue
            }
            if name == "authorization", passAccessToken, !principal.isBearer { continue }
            result.append((field.name.rawName, field.value))
        }
        if !cookies.isEmpty { result.append(("Cookie", cookies.joined(separator: "; "))) }
        let forwardedFor = trusted ? fields[.xForwardedFor] : nil
        if let peerIP {
            result.append(("X-Forwarded-For", forwardedFor.map { $0 + ", " + peerIP } ?? peerIP))
        }
        let proto = trusted ? fields[.xForwardedProto] : nil
        result.append(("X-Forwarded-Proto", proto ?? defaultScheme))
        let host = (trusted ? fields[.xForwardedHost] : nil) ?? request.authority
        if let host { result.append(("X-Forwarded-Host", host)) }
        if let identity = principal.identity {
            for (name, value) in IdentityHeaders.values(for: identity) {
                result.append((name.rawName, HTTPFields.Element(name: name, value: value).value))
            }
        }
        if passAccessToken, case .session(let session) = principal {
            result.append(("Authorization", "Bearer " + session.tokens.accessToken))
        }
        return result
    }

    /// What the client receives from the upstream's answer: end-to-end fields only, and no
    /// `Set-Cookie` that would overwrite one of Gatehouse's cookies.
    static func response(_ upstream: some Sequence<(name: String, value: String)>) -> HTTPFields {
        var connectionListed: Set<String> = []
        for (name, value) in upstream where name.lowercased() == "connection" {
            for item in value.split(separator: ",") { connectionListed.insert(item.trimmingWhitespace().lowercased()) }
        }
        var fields = HTTPFields()
        for (name, value) in upstream {
            let lowered = name.lowercased()
            guard !hopByHop.contains(lowered), !connectionListed.contains(lowered),
                let fieldName = HTTPFields.Element.Name(name)
            else { continue }
            if lowered == "set-cookie" {
                let cookieName = value.prefix { $0 != "=" }.trimmingWhitespace()
                if AuthCookies.isGatehouseCookie(cookieName) { continue }
            }
            fields.append(HTTPFields.Element(name: fieldName, value: value))
        }
        return fields
    }
}

extension HTTPFields.Element.Name {
    // Valid literal field names: the initialiser cannot fail.
    static let xForwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPFields.Element.Name("X-Forwarded-Proto")!
    static let xForwardedHost = HTTPFields.Element.Name("X-Forwarded-Host")!
}
