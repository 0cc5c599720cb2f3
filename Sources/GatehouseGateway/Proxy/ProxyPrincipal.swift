public import GatehouseOAuth
public import GatehouseStore

/// Whom a proxied request is for, which decides its identity headers and `Authorization`.
public enum ProxyPrincipal: Sendable {
    /// No one (a `GATEHOUSE_SKIP_AUTH_ROUTES` path without a session).
    case anonymous
    /// A signed-in browser session.
    case session(Session)
    /// A client that presented an IdP-signed bearer JWT (`GATEHOUSE_ALLOW_BEARER`); its
    /// `Authorization` header is forwarded unchanged.
    case bearer(Identity)

    var isBearer: Bool {
        if case .bearer = self { return true }
        return false
    }

    /// The id of the provider a session came from; `nil` for the others.
    var provider: String? {
        if case .session(let session) = self { return session.provider }
        return nil
    }

    var identity: Identity? {
        switch self {
        case .anonymous: nil
        case .session(let session): session.identity
        case .bearer(let identity): identity
        }
    }
}
