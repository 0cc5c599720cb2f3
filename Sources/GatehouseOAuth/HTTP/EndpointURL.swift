import Foundation

/// Checks on every URL Gatehouse sends a request to or redirects a browser to.
public enum EndpointURL {
    /// Accepts `https` URLs, and `http` only on a loopback host (RFC 9700 §2.6: tokens and codes
    /// never travel in clear text). Rejects user info and fragments.
    static func validate(_ string: String, name: String) throws(OAuthError) -> URLComponents {
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw OAuthError(.invalidConfiguration, "\(name) is not an absolute URL")
        }
        guard components.user == nil, components.password == nil, components.fragment == nil else {
            throw OAuthError(.invalidConfiguration, "\(name) must not carry user info or a fragment")
        }
        switch scheme {
        case "https":
            return components
        case "http" where isLoopback(host: host):
            return components
        default:
            throw OAuthError(.insecureURL, "\(name) must use https (http is allowed on loopback only)")
        }
    }

    /// `scheme://host[:port]` of `url`, lower case (an origin, RFC 6454), or `nil` without a
    /// scheme and host.
    public static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    /// `127.0.0.0/8` (four decimal octets: `127.example.com` is a name, not loopback), `::1`
    /// and `localhost`.
    public static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { $0.utf8.allSatisfy { (48...57).contains($0) } && UInt8($0) != nil }
    }
}
