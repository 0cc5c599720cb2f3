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
public struct AuthCookies: Sendable {
    public let secure: Bool

    public init(secure: Bool) {
        self.secure = secure
    }

    /// The session cookie's name.
    public var sessionName: String { secure ? "__Host-gatehouse" : "gatehouse" }

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
        name == "gatehouse" || name == "__Host-gatehouse" || name == "gatehouse-loop" || name == "__Host-gatehouse-loop"
            || name.hasPrefix("gatehouse-login-") || name.hasPrefix("__Host-gatehouse-login-")
    }

    /// The session cookie for `id`, living `maxAge` seconds.
    public func session(_ id: SessionID, maxAge: Int) -> Cookie {
        make(sessionName, value: id.value, maxAge: max(0, maxAge))
    }

    /// Deletes the session cookie.
    public func clearSession() -> Cookie { make(sessionName, value: "", maxAge: 0) }

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
        var names: [String] = []
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let name = part.drop { $0 == " " }.prefix { $0 != "=" }
                if name.hasPrefix(bindingPrefix) { names.append(String(name)) }
            }
        }
        return names
    }

    private func make(_ name: String, value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true,
            sameSite: .lax)
    }
}
