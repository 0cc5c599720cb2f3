public import Foundation

/// A back-channel logout token whose signature and claims have been validated (OpenID Connect
/// Back-Channel Logout 1.0 §2.4). It names the IdP session (`sid`), the user (`sub`), or both.
public struct LogoutToken: Sendable, Hashable {
    public let issuer: String
    /// `sub`, when present.
    public let subject: String?
    /// `sid`, the IdP's session id, when present.
    public let sessionID: String?
    /// `jti`: unique per token, for the replay cache (§2.6 step 8 "MAY").
    public let tokenID: String
    public let issuedAt: Date
    public let expiresAt: Date
    /// The header's `kid`, when present.
    public let keyID: String?
}
