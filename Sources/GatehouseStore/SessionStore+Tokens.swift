import Foundation
public import GatehouseOAuth

extension SessionStore {
    /// Replaces the session's tokens (after a refresh) if nobody else did since `session` was
    /// read: compare-and-swap on ``Session/version``.
    ///
    /// The tokens are sealed with the current primary key, which is how key rotation reaches
    /// each session on its next write. When the new token response states a refresh-token
    /// lifetime, the absolute deadline becomes `min(createdAt + maxAge, now + lifetime)` (it
    /// may move later, as a sliding refresh token allows, never past the maximum age); when it
    /// does not, the deadline stays.
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
        let sealed = try sealTokens(tokens, for: session.idHash)
        guard
            let row = try await driver.updateTokens(
                session.idHash, expectedVersion: session.version, sealedTokens: sealed, absoluteExpiresAt: absolute)
        else {
            cache.invalidate(session.idHash)
            return nil
        }
        let updated = Self.session(from: row, identity: session.identity, tokens: SessionTokens(tokens))
        cache.put(updated, readAt: now)
        return updated
    }

    /// Rewrites every session not sealed with the primary key, through compare-and-swap (a
    /// concurrent refresh wins and seals with the primary key itself). Sessions that cannot be
    /// opened are logged and left alone.
    ///
    /// Pending authorizations are not rewritten: they live ``Configuration/pendingLifetime``,
    /// so drop an old key no sooner than that after this returns.
    ///
    /// - Returns: How many sessions were rewritten.
    public func reencryptAll() async throws -> Int {
        let primary = keyRing.primaryKeyID
        var rewritten = 0
        for listed in try await driver.listSessions(limit: Int.max) {
            var row: SessionRow? = listed
            for _ in 0..<5 {
                guard let current = row, KeyRing.keyID(ofSealed: current.sealedTokens) != primary else { break }
                let opened: [UInt8]
                do {
                    opened = try keyRing.open(current.sealedTokens, purpose: .sessionTokens, boundTo: current.idHash)
                        .plaintext
                } catch {
                    logger.error(
                        "session cannot be re-encrypted: it does not open with this key ring",
                        metadata: [
                            "session": "\(current.idHash.shortDescription)", "error": "\(Self.logCode(error))",
                        ])
                    break
                }
                let sealed = try keyRing.seal(opened, purpose: .sessionTokens, boundTo: current.idHash)
                let swapped = try await driver.updateTokens(
                    current.idHash, expectedVersion: current.version, sealedTokens: sealed,
                    absoluteExpiresAt: current.absoluteExpiresAt)
                cache.invalidate(current.idHash)
                if swapped != nil {
                    rewritten += 1
                    break
                }
                row = try await driver.session(current.idHash)
            }
        }
        return rewritten
    }
}
