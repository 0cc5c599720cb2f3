import Foundation
import GatehouseOAuth

/// Strict parsers for configuration values; each error names the variable.
enum ConfigParsing {
    /// `host:port` (`[::1]:4180` for IPv6).
    static func listen(_ text: String, variable: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ConfigurationError(variable, "must be host:port, like 127.0.0.1:4180")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError(variable, "must be host:port with a port from 0 to 65535")
        }
        return (host, port)
    }

    /// An absolute `http`/`https` URL without query, fragment or credentials; `http` only for
    /// loopback hosts (except upstreams, which are usually on a private network).
    /// Returned without a trailing slash.
    static func baseURL(_ text: String, variable: String, isUpstream: Bool = false) throws -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError(variable, "must be an absolute http:// or https:// URL")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil, components.password == nil
        else {
            throw ConfigurationError(variable, "must not contain a query, a fragment or credentials")
        }
        if !isUpstream, scheme == "http", !isLoopbackHost(host) {
            throw ConfigurationError(variable, "must use https (http is allowed only for loopback addresses)")
        }
        var result = text
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// An issuer: the checks of ``baseURL(_:variable:isUpstream:)``, but returned exactly as
    /// given. Discovery and ID tokens must name the issuer byte for byte (OIDC Core §3.1.3.7,
    /// Discovery §4.3), and some IdPs' issuers end with `/` (Auth0, Ory Hydra).
    static func issuer(_ text: String, variable: String) throws -> String {
        _ = try baseURL(text, variable: variable)
        return text
    }

    static func duration(_ text: String, variable: String) throws -> Duration {
        guard let duration = DurationText.parse(text) else {
            throw ConfigurationError(variable, "must be a duration like 90s, 30m, 8h or 7d")
        }
        return duration
    }

    static func bool(_ text: String, variable: String) throws -> Bool {
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw ConfigurationError(variable, "must be true or false")
        }
    }

    /// `sqlite:PATH` or `postgres://…` / `postgresql://…`. The value is never repeated in an
    /// error (it may hold a password).
    static func store(_ text: String) throws -> GatewayConfiguration.Store {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ConfigurationError("GATEHOUSE_STORE", "sqlite: needs a file path") }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return .postgres(url: text)
        }
        throw ConfigurationError("GATEHOUSE_STORE", "must be sqlite:PATH or a postgres:// URL")
    }

    static func isLoopbackURL(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host else { return false }
        return isLoopbackHost(host)
    }

    /// `localhost`, `::1` or an address in 127.0.0.0/8 (``EndpointURL/isLoopback(host:)``).
    static func isLoopbackHost(_ host: String) -> Bool {
        EndpointURL.isLoopback(host: host)
    }
}
