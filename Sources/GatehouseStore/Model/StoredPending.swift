public import Foundation
public import GatehouseOAuth

/// A pending authorization taken back out of the store at the callback.
public struct StoredPending: Sendable {
    /// `state`, `nonce`, PKCE verifier and redirect URI, as saved.
    public var pending: PendingAuthorization
    /// SHA-256 of the browser-binding cookie value: compare with the callback's cookie.
    public var bindingHash: SessionHash
    /// The validated same-origin return path.
    public var returnPath: String
    /// The provider the login was started with.
    public var provider: String
    public var expiresAt: Date
    /// What the login must satisfy (sealed with it).
    public var conditions: LoginConditions

    public init(
        pending: PendingAuthorization, bindingHash: SessionHash, returnPath: String, provider: String,
        expiresAt: Date, conditions: LoginConditions = LoginConditions()
    ) {
        self.conditions = conditions
        self.pending = pending
        self.bindingHash = bindingHash
        self.returnPath = returnPath
        self.provider = provider
        self.expiresAt = expiresAt
    }

    /// Whether `bindingValue` (the browser-binding cookie at the callback) is the one the login
    /// started with.
    public func isBound(to bindingValue: String) -> Bool {
        SessionHash(of: bindingValue) == bindingHash
    }
}
