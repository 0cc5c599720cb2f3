import Synchronization

/// A ``StorageDriver`` in process memory: for tests, `demo`, and single-instance setups that
/// accept losing every session on restart. Every method runs under one lock, so each is
/// atomic and ``takePending(_:now:)`` has exactly one winner.
public final class MemoryDriver: StorageDriver {
    private struct State {
        var sessions: [SessionHash: SessionRow] = [:]
        var pending: [SessionHash: PendingRow] = [:]
    }

    private let state = Mutex(State())

    /// An empty store.
    public init() {}

    /// Nothing to migrate.
    public func migrate() async throws {}

    public func insertSession(_ row: SessionRow) async throws {
        try state.withLock { state in
            guard state.sessions[row.idHash] == nil else {
                throw StoreError.conflict.withDetail("a session with this id hash exists")
            }
            state.sessions[row.idHash] = row
        }
    }

    public func session(_ idHash: SessionHash) async throws -> SessionRow? {
        state.withLock { $0.sessions[idHash] }
    }

    public func touchSession(_ idHash: SessionHash, lastSeenAt: Int64, idleExpiresAt: Int64) async throws {
        state.withLock { state in
            guard var row = state.sessions[idHash] else { return }
            row.lastSeenAt = lastSeenAt
            row.idleExpiresAt = min(idleExpiresAt, row.absoluteExpiresAt)
            state.sessions[idHash] = row
        }
    }

    public func updateTokens(
        _ idHash: SessionHash, expectedVersion: Int64, sealed: [UInt8], absoluteExpiresAt: Int64
    ) async throws -> SessionRow? {
        state.withLock { state in
            guard var row = state.sessions[idHash], row.version == expectedVersion else { return nil }
            row.sealed = sealed
            row.legacyClaims = nil
            row.absoluteExpiresAt = absoluteExpiresAt
            row.version += 1
            state.sessions[idHash] = row
            return row
        }
    }

    public func deleteSession(_ idHash: SessionHash) async throws -> Bool {
        state.withLock { $0.sessions.removeValue(forKey: idHash) != nil }
    }

    public func takeSession(_ idHash: SessionHash) async throws -> SessionRow? {
        state.withLock { $0.sessions.removeValue(forKey: idHash) }
    }

    public func deleteSessions(subject: String, provider: String?) async throws -> [SessionHash] {
        deleteSessions { $0.subject == subject && (provider == nil || $0.provider == provider) }
    }

    public func deleteSessions(idpSessionID: String, provider: String?) async throws -> [SessionHash] {
        deleteSessions { $0.idpSessionID == idpSessionID && (provider == nil || $0.provider == provider) }
    }

    private func deleteSessions(where matches: (SessionRow) -> Bool) -> [SessionHash] {
        state.withLock { state in
            let hashes = state.sessions.values.filter(matches).map(\.idHash)
            for hash in hashes { state.sessions[hash] = nil }
            return hashes
        }
    }

    public func deleteAllSessions() async throws -> Int {
        state.withLock { state in
            let count = state.sessions.count
            state.sessions.removeAll()
            return count
        }
    }

    public func listSessions(limit: Int) async throws -> [SessionRow] {
        let rows = state.withLock { Array($0.sessions.values) }
        return Array(rows.sorted { $0.createdAt > $1.createdAt }.prefix(max(0, limit)))
    }

    public func countSessions(activeAt now: Int64) async throws -> Int {
        state.withLock { state in state.sessions.values.count { !$0.isExpired(at: now) } }
    }

    public func insertPending(_ row: PendingRow) async throws {
        try state.withLock { state in
            guard state.pending[row.stateHash] == nil else {
                throw StoreError.conflict.withDetail("a pending authorization with this state exists")
            }
            state.pending[row.stateHash] = row
        }
    }

    public func takePending(_ stateHash: SessionHash, now: Int64) async throws -> PendingRow? {
        state.withLock { state in
            guard let row = state.pending.removeValue(forKey: stateHash), row.expiresAt > now else { return nil }
            return row
        }
    }

    public func takePending(_ stateHash: SessionHash, bindingHash: SessionHash, now: Int64) async throws -> PendingTake {
        state.withLock { state in
            guard let row = state.pending[stateHash] else { return .none }
            guard row.bindingHash == bindingHash else { return row.expiresAt > now ? .bindingMismatch : .none }
            state.pending[stateHash] = nil
            return row.expiresAt > now ? .taken(row) : .none
        }
    }

    public func deletePending(stateHashPrefix: [UInt8], bindingHash: SessionHash) async throws -> Bool {
        state.withLock { state in
            guard !stateHashPrefix.isEmpty,
                let hash = state.pending.first(where: { key, row in
                    key.bytes.starts(with: stateHashPrefix) && row.bindingHash == bindingHash
                })?.key
            else { return false }
            state.pending[hash] = nil
            return true
        }
    }

    public func countPending(activeAt now: Int64) async throws -> Int {
        state.withLock { state in state.pending.values.count { $0.expiresAt > now } }
    }

    public func purgeExpiredPending(now: Int64, limit: Int) async throws -> Int {
        state.withLock { state in
            let expired = Array(state.pending.values.lazy.filter { $0.expiresAt <= now }.prefix(max(0, limit)).map(\.stateHash))
            for hash in expired { state.pending[hash] = nil }
            return expired.count
        }
    }

    public func purgeExpired(now: Int64, limit: Int) async throws -> Int {
        state.withLock { state in
            var remaining = max(0, limit)
            let sessions = Array(state.sessions.values.lazy.filter { $0.isExpired(at: now) }.prefix(remaining).map(\.idHash))
            for hash in sessions { state.sessions[hash] = nil }
            remaining -= sessions.count
            let pending = Array(state.pending.values.lazy.filter { $0.expiresAt <= now }.prefix(remaining).map(\.stateHash))
            for hash in pending { state.pending[hash] = nil }
            return sessions.count + pending.count
        }
    }

    /// Replaces a stored row as it stands, with no check: how tests write "behind the store's
    /// back" here, as they write SQL to the other drivers.
    func overwrite(_ idHash: SessionHash, _ change: (inout SessionRow) -> Void) {
        state.withLock { state in
            guard var row = state.sessions[idHash] else { return }
            change(&row)
            state.sessions[idHash] = row
        }
    }

    /// One process: the caller's own single-flight is enough; runs `body`.
    public func withSessionLock<T: Sendable>(
        _ idHash: SessionHash, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await body()
    }
}
