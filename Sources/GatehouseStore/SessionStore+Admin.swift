import Foundation
import Logging

extension SessionStore {
    /// Deletes one session (sign-out, revoke). Takes effect on this instance at once, on
    /// others within ``Configuration/cacheTTL``.
    ///
    /// - Returns: Whether it existed.
    public func delete(_ idHash: SessionHash) async throws -> Bool {
        cache.invalidate(idHash)
        let existed = try await driver.deleteSession(idHash)
        // A load that read the row before the delete may have cached it meanwhile.
        cache.invalidate(idHash)
        return existed
    }

    /// Deletes one session and returns it with its complete token set (sign-out: revoke the
    /// refresh token, send `id_token_hint`). The row is read and deleted in one statement, so a
    /// refresh racing with the sign-out cannot slip a newer refresh token past it.
    ///
    /// - Returns: The deleted session, expired or not, or `nil` when there was none or its
    ///   tokens cannot be opened (logged; the row is deleted all the same).
    public func end(_ idHash: SessionHash) async throws -> SessionWithTokenSet? {
        cache.invalidate(idHash)
        let row = try await driver.takeSession(idHash)
        // A load that read the row before the delete may have cached it meanwhile.
        cache.invalidate(idHash)
        guard let row else { return nil }
        do {
            return try decodeWithTokenSet(row)
        } catch {
            logger.error(
                "ended a session that cannot be opened or verified; nothing to revoke",
                metadata: ["session": "\(idHash.shortDescription)", "error": "\(Self.logCode(error))"])
            return nil
        }
    }

    /// Deletes every session of a subject ("sign out everywhere"): only those from `provider`
    /// (its id) unless it is `nil` (a subject is unique only within its issuer).
    ///
    /// - Returns: How many were deleted.
    public func deleteAll(subject: String, provider: String? = nil) async throws -> Int {
        let deleted = try await driver.deleteSessions(subject: subject, provider: provider)
        cache.invalidate(deleted)
        return deleted.count
    }

    /// Deletes every session of an IdP session (`sid`, OIDC Back-Channel Logout §2.5): only
    /// those from `provider` (its id) unless it is `nil`.
    ///
    /// - Returns: How many were deleted.
    public func deleteAll(idpSessionID: String, provider: String? = nil) async throws -> Int {
        let deleted = try await driver.deleteSessions(idpSessionID: idpSessionID, provider: provider)
        cache.invalidate(deleted)
        return deleted.count
    }

    /// Deletes every session (`gatehouse sessions revoke --all`).
    ///
    /// - Returns: How many were deleted.
    public func deleteEverything() async throws -> Int {
        cache.removeAll()
        let count = try await driver.deleteAllSessions()
        cache.removeAll()
        return count
    }

    /// The newest `limit` sessions (expired ones not yet purged included), for the admin
    /// command. The email is read from the sealed session: none for a session that cannot be
    /// opened or verified.
    public func list(limit: Int) async throws -> [SessionSummary] {
        try await driver.listSessions(limit: max(0, limit)).map { row in
            SessionSummary(
                idHash: row.idHash, idHashPrefix: row.idHash.shortDescription, subject: row.subject,
                email: (try? decodeWithTokenSet(row))?.session.identity.email, provider: row.provider,
                createdAt: Date(storeMilliseconds: row.createdAt),
                lastSeenAt: Date(storeMilliseconds: row.lastSeenAt),
                idleExpiresAt: Date(storeMilliseconds: min(row.idleExpiresAt, row.absoluteExpiresAt)),
                absoluteExpiresAt: Date(storeMilliseconds: row.absoluteExpiresAt))
        }
    }

    /// The number of sessions not expired now.
    public func activeCount() async throws -> Int {
        try await driver.countSessions(activeAt: clock.now.storeMilliseconds)
    }

    /// Deletes at most `batchSize` expired sessions and pending authorizations: one bounded
    /// batch, so no single statement holds locks for long.
    ///
    /// - Returns: How many rows were deleted (less than `batchSize`: nothing more to purge).
    public func purgeExpired(batchSize: Int = 1000) async throws -> Int {
        try await driver.purgeExpired(now: clock.now.storeMilliseconds, limit: max(1, batchSize))
    }

    /// Purges expired rows every `interval` until the task is cancelled. Each round runs
    /// bounded batches (at most `maxBatchesPerRound`) until one comes back short; errors are
    /// logged and the loop goes on.
    public func runPurgeLoop(every interval: Duration, batchSize: Int = 1000, maxBatchesPerRound: Int = 100) async {
        while !Task.isCancelled {
            var purged = 0
            do {
                for _ in 0..<max(1, maxBatchesPerRound) {
                    try Task.checkCancellation()
                    let count = try await purgeExpired(batchSize: batchSize)
                    purged += count
                    if count < max(1, batchSize) { break }
                    await Task.yield()
                }
                if purged > 0 { logger.debug("purged expired rows", metadata: ["count": "\(purged)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("purging expired sessions failed", metadata: ["error": "\(Self.logCode(error))"])
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
