/// When a client pushes its authorization requests to the provider (RFC 9126, PAR) instead of
/// sending them through the browser: the browser then carries only `client_id` and an
/// opaque `request_uri`, so nothing in the request can be read or changed on the way, and the
/// client authenticates before the user sees a login page.
public enum PushedAuthorization: String, Sendable, CaseIterable {
    /// When the provider's metadata says `require_pushed_authorization_requests: true`.
    case auto
    /// Always (a provider without a PAR endpoint is a configuration error).
    case always
    /// Never (a provider that requires PAR is a configuration error).
    case never
}

