import Foundation
public import GatehouseStore
public import Hummingbird

/// Gatehouse's cookies: the session cookie and one short-lived browser-binding cookie per
/// login in flight.
///
/// Names: `__Host-gatehouse` and `__Host-gatehouse-login-<state hash prefix>` when cookies are
/// secure (the `__Host-` prefix makes the browser refuse them unless `Secure`, `Path=/` and no
/// `Domain`, so a sibling subdomain cannot plant one), else `gatehouse` and
/// `gatehouse-login-<…>`. All are `HttpOnly`, `SameSite=Lax` (sent on the IdP's top-level
/// redirect back to the callback), `Path=/`.
///
/// With a `domain` (several hosts, one sign-in) the session cookie carries `Domain` and is
/// named `__Secure-gatehouse` (`__Host-` forbids `Domain`); the binding and loop cookies stay
/// host-only on the public URL's host, where logins start and finish.
public struct AuthCookies: Sendable {
    public let secure: Bool
    /// The session cookie's `Domain`, or `nil` (host-only).
    public let domain: String?

    public init(secure: Bool, domain: String? = nil) {
        self.secure = secure
        self.domain = domain
    }

    /// The session cookie's name.
    public var sessionName: String {
        guard secure else { return "gatehouse" }
        return domain == nil ? "__Host-gatehouse" : "__Secure-gatehouse"
    }

    /// The redirect-loop counter's name (see `LoginLoopGuard`).
    public var loopName: String { secure ? "__Host-gatehouse-loop" : "gatehouse-loop" }

    /// The common prefix of the binding cookies' names.
    public var bindingPrefix: String { secure ? "__Host-gatehouse-login-" : "gatehouse-login-" }

    /// The binding cookie of the login that sent `state`: the name carries the first 12 hex
    /// digits of SHA-256(`state`), never `state` itself.
    public func bindingName(forState state: String) -> String {
        bindingPrefix + String(SessionHash(of: state).hex.prefix(12))
    }

    /// Whether a cookie name is one of Gatehouse's (secure or not): these never reach the
    /// upstream.
    public static func isGatehouseCookie(_ name: String) -> Bool {
        name == "gatehouse" || name == "__Host-gatehouse" || name == "__Secure-gatehouse" || name == "gatehouse-loop"
            || name == "__Host-gatehouse-loop"
            || name.hasPrefix("gatehouse-login-") || name.hasPrefix("__Host-gatehouse-login-")
    }

    /// The session cookie for `id`, living `maxAge` seconds.
    public func session(_ id: SessionID, maxAge: Int) -> Cookie {
        make(sessionName, value: id.value, maxAge: max(0, maxAge), domain: domain)
    }

    /// Deletes the session cookie.
    public func clearSession() -> Cookie { make(sessionName, value: "", maxAge: 0, domain: domain) }

    /// A binding cookie.
    public func binding(name: String, value: String, maxAge: Int) -> Cookie {
        make(name, value: value, maxAge: maxAge)
    }

    /// The redirect-loop counter, living `maxAge` seconds (`0` deletes it).
    public func loop(value: String, maxAge: Int) -> Cookie { make(loopName, value: value, maxAge: maxAge) }

    /// Deletes a binding cookie.
    public func clearBinding(name: String) -> Cookie { make(name, value: "", maxAge: 0) }

    /// The names of the binding cookies `request` carries.
    public func bindingNames(in request: Request) -> [String] {
        bindings(in: request).map(\.name)
    }

    /// The binding cookies `request` carries, oldest first (by the start time in their value;
    /// values without one count as oldest).
    public func bindings(in request: Request) -> [BindingCookie] {
        var found: [BindingCookie] = []
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.drop { $0 == " " }
                let name = pair.prefix { $0 != "=" }
                guard name.hasPrefix(bindingPrefix) else { continue }
                let value = pair.dropFirst(name.count + 1)
                found.append(BindingCookie(name: String(name), value: String(value), prefixLength: bindingPrefix.count))
            }
        }
        return found.sorted { $0.startedAt < $1.startedAt }
    }

    /// A new binding cookie value: the start time (Unix milliseconds, to find a browser's
    /// oldest login), a dot, and 256 random bits. The store keeps only its hash, so the time
    /// cannot be changed without breaking the binding.
    static func newBindingValue(now: Date) -> String {
        "\(Int64((now.timeIntervalSince1970 * 1000).rounded(.down))).\(SessionID.generate().value)"
    }

    private func make(_ name: String, value: String, maxAge: Int, domain: String? = nil) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, domain: domain, path: "/", secure: secure, httpOnly: true,
            sameSite: .lax)
    }
}

/// A binding cookie as a request carries it.
public struct BindingCookie: Sendable, Hashable {
    public let name: String
    public let value: String
    /// When its login started (Unix milliseconds), from the value; 0 when the value has none.
    public let startedAt: Int64
    /// The first bytes of its login's state hash, from the name (`nil` when the name is not
    /// one Gatehouse made).
    public let stateHashPrefix: [UInt8]?

    init(name: String, value: String, prefixLength: Int) {
        self.name = name
        self.value = value
        let time = value.prefix { $0 != "." }
        self.startedAt = time.count < value.count && time.count <= 15 && time.allSatisfy { $0.isASCII && $0.isNumber }
            ? Int64(time) ?? 0 : 0
        let hex = Array(name.utf8.dropFirst(prefixLength))
        if hex.count == 12 {
            var bytes: [UInt8] = []
            for index in stride(from: 0, to: hex.count, by: 2) {
                guard let high = Self.nibble(hex[index]), let low = Self.nibble(hex[index + 1]) else { break }
                bytes.append(high << 4 | low)
            }
            self.stateHashPrefix = bytes.count == 6 ? bytes : nil
        } else {
            self.stateHashPrefix = nil
        }
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
