import Foundation
public import GatehouseOAuth

extension SessionStore {
    /// Replaces the session's tokens (after a refresh) if nobody else did since `session` was
    /// read: compare-and-swap on ``Session/version``.
    ///
    /// The session (identity and deadlines with the new tokens) is sealed with the current
    /// primary key, which is how key rotation reaches each session on its next write. When
    /// the new token response states a refresh-token lifetime, the absolute deadline becomes
    /// `min(createdAt + maxAge, now + lifetime)` (it may move later, as a sliding refresh token
    /// allows, never past the maximum age); when it does not, the deadline stays.
    ///
    /// - Returns: The updated session, or `nil` when the version did not match or the session
    ///   is gone (reload with `bypassCache: true` and decide again).
    public func updateTokens(_ session: Session, to tokens: TokenSet) async throws -> Session? {
        let now = clock.now
        var absolute = session.absoluteExpiresAt.storeMilliseconds
        if let refreshDeadline = Self.refreshDeadline(of: tokens, now: now.storeMilliseconds) {
            absolute = min(
                session.createdAt.storeMilliseconds + configuration.maxAge.storeMilliseconds, refreshDeadline)
        }
        let payload = SessionPayload(
            identity: session.identity, provider: session.provider, createdAt: session.createdAt.storeMilliseconds,
            absoluteExpiresAt: absolute)
        let sealed = try seal(payload, tokens: tokens, for: session.idHash)
        guard
            let row = try await driver.updateTokens(
                session.idHash, expectedVersion: session.version, sealed: sealed, absoluteExpiresAt: absolute)
        else {
            cache.invalidate(session.idHash)
            return nil
        }
        let updated = Self.session(from: row, payload: payload, tokens: SessionTokens(tokens))
        cache.put(updated, readAt: now)
        return updated
    }
}
