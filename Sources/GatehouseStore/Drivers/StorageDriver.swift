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

    /// Compare-and-swap of the sealed tokens: succeeds only when the stored version equals
    /// `expectedVersion`, then stores `version + 1`. Returns the new row, or `nil` when the
    /// version did not match or the row is gone.
    func updateTokens(
        _ idHash: SessionHash, expectedVersion: Int64, sealedTokens: [UInt8], absoluteExpiresAt: Int64
    ) async throws -> SessionRow?

    /// Deletes one session; whether it existed.
    func deleteSession(_ idHash: SessionHash) async throws -> Bool

    /// Deletes one session and returns it as it was, in one atomic step (sign-out needs the
    /// tokens it deletes); `nil` when there was none.
    func takeSession(_ idHash: SessionHash) async throws -> SessionRow?

    /// Deletes every session of a subject ("sign out everywhere"); the hashes deleted.
    func deleteSessions(subject: String) async throws -> [SessionHash]

    /// Deletes every session of an IdP session (`sid`, back-channel logout); the hashes deleted.
    func deleteSessions(idpSessionID: String) async throws -> [SessionHash]

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

    /// Deletes at most `limit` expired sessions and pending authorizations; how many.
    func purgeExpired(now: Int64, limit: Int) async throws -> Int

    /// Runs `body` while holding an exclusive lock named by `idHash` that other processes
    /// sharing this store also respect (PostgreSQL: an advisory lock). In-process drivers
    /// may rely on the caller's own single-flight and just run `body`.
    func withSessionLock<T: Sendable>(
        _ idHash: SessionHash, _ body: @Sendable () async throws -> T
    ) async throws -> T
}
