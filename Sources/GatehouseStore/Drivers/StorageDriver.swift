/// Where rows live: in memory, SQLite or PostgreSQL. Implementations are safe for concurrent
/// use; every method is one atomic operation. They hold only hashes and sealed secrets.
public protocol StorageDriver: Sendable {
    /// Creates or upgrades the schema (versioned, idempotent).
    func migrate() async throws

    /// Inserts a new session; an existing row with the same hash is an error.
    func insertSession(_ row: SessionRow) async throws

    /// The row, expired or not (the caller decides), or `nil`.
    func session(_ idHash: SessionHash) async throws -> SessionRow?

    /// Records activity: sets `lastSeenAt` and `idleExpiresAt` (never beyond
    /// `absoluteExpiresAt`). Does not change `version`.
    func touchSession(_ idHash: SessionHash, lastSeenAt: Int64, idleExpiresAt: Int64) async throws

    /// Compare-and-swap of the sealed session: succeeds only when the stored version equals
    /// `expectedVersion`, then stores `sealed`, `absoluteExpiresAt`, no legacy claims
    /// (``SessionRow/legacyClaims`` becomes `nil`) and `version + 1`. Returns the new row, or
    /// `nil` when the version did not match or the row is gone.
    func updateTokens(
        _ idHash: SessionHash, expectedVersion: Int64, sealed: [UInt8], absoluteExpiresAt: Int64
    ) async throws -> SessionRow?

    /// Deletes one session; whether it existed.
    func deleteSession(_ idHash: SessionHash) async throws -> Bool

    /// Deletes one session and returns it as it was, in one atomic step (sign-out needs the
    /// tokens it deletes); `nil` when there was none.
    func takeSession(_ idHash: SessionHash) async throws -> SessionRow?

    /// Deletes every session of a subject ("sign out everywhere"), of `provider` only unless
    /// it is `nil`; the hashes deleted.
    func deleteSessions(subject: String, provider: String?) async throws -> [SessionHash]

    /// Deletes every session of an IdP session (`sid`, back-channel logout) of `provider`
    /// (`nil`: any); the hashes deleted.
    func deleteSessions(idpSessionID: String, provider: String?) async throws -> [SessionHash]

    /// Deletes every session; how many.
    func deleteAllSessions() async throws -> Int

    /// Sessions ordered by creation time, newest first, for the admin command.
    func listSessions(limit: Int) async throws -> [SessionRow]

    /// The number of sessions not expired at `now`.
    func countSessions(activeAt now: Int64) async throws -> Int

    /// Stores a pending authorization.
    func insertPending(_ row: PendingRow) async throws

    /// Atomically removes and returns the pending authorization: of any number of concurrent
    /// callers (in any number of processes), exactly one gets the row. Expired rows are
    /// removed and not returned.
    func takePending(_ stateHash: SessionHash, now: Int64) async throws -> PendingRow?

    /// Takes the pending authorization only for the browser it is bound to, atomically: when
    /// `bindingHash` matches, the row is deleted and returned to exactly one caller; when it
    /// does not, nothing is deleted (a wrong binding consumes nothing, DESIGN §1).
    func takePending(_ stateHash: SessionHash, bindingHash: SessionHash, now: Int64) async throws -> PendingTake

    /// Deletes the pending authorization whose state hash starts with `stateHashPrefix` and
    /// whose binding hash is `bindingHash` (a browser giving up its oldest login); whether
    /// one was deleted.
    func deletePending(stateHashPrefix: [UInt8], bindingHash: SessionHash) async throws -> Bool

    /// The number of pending authorizations not expired at `now`.
    func countPending(activeAt now: Int64) async throws -> Int

    /// Deletes at most `limit` expired pending authorizations (not sessions); how many.
    func purgeExpiredPending(now: Int64, limit: Int) async throws -> Int

    /// Deletes at most `limit` expired sessions and pending authorizations; how many.
    func purgeExpired(now: Int64, limit: Int) async throws -> Int

    /// Runs `body` while holding an exclusive lock named by `idHash` that other processes
    /// sharing this store also respect (PostgreSQL: an advisory lock). In-process drivers
    /// may rely on the caller's own single-flight and just run `body`.
    func withSessionLock<T: Sendable>(
        _ idHash: SessionHash, _ body: @Sendable () async throws -> T
    ) async throws -> T

    /// Reports sessions deleted by any process sharing this store (other gateway instances,
    /// `gatehouse sessions revoke`) until the calling task is cancelled, so that read caches
    /// drop them at once. `onListening` runs each time observation (re)starts: deletions
    /// before it may have been missed. Returns `false` at once when the driver cannot observe
    /// deletions (the caches then rely on their lifetime alone).
    func observeDeletions(
        onListening: @escaping @Sendable () -> Void, _ onDeleted: @escaping @Sendable (SessionDeletion) -> Void
    ) async throws -> Bool
}

/// A deletion seen by ``StorageDriver/observeDeletions(onListening:_:)``.
public enum SessionDeletion: Sendable, Equatable {
    /// This session is gone.
    case session(SessionHash)
    /// Many sessions went at once (or the notice could not be read): forget every cached one.
    case many
}

extension StorageDriver {
    /// Drivers that cannot observe deletions by other processes.
    public func observeDeletions(
        onListening: @escaping @Sendable () -> Void, _ onDeleted: @escaping @Sendable (SessionDeletion) -> Void
    ) async throws -> Bool {
        false
    }
}
