import GatehouseStore
import Synchronization

/// Passes every call to another driver and counts the writes, to check write throttling.
final class CountingDriver: StorageDriver {
    let base: any StorageDriver
    private let counts = Mutex<[String: Int]>([:])

    init(_ base: any StorageDriver) {
        self.base = base
    }

    func count(_ operation: String) -> Int { counts.withLock { $0[operation, default: 0] } }

    private func record(_ operation: String) {
        counts.withLock { $0[operation, default: 0] += 1 }
    }

    func migrate() async throws { try await base.migrate() }

    func insertSession(_ row: SessionRow) async throws {
        record("insertSession")
        try await base.insertSession(row)
    }

    func session(_ idHash: SessionHash) async throws -> SessionRow? {
        record("session")
        return try await base.session(idHash)
    }

    func touchSession(_ idHash: SessionHash, lastSeenAt: Int64, idleExpiresAt: Int64) async throws {
        record("touchSession")
        try await base.touchSession(idHash, lastSeenAt: lastSeenAt, idleExpiresAt: idleExpiresAt)
    }

    func updateTokens(
        _ idHash: SessionHash, expectedVersion: Int64, sealed: [UInt8], absoluteExpiresAt: Int64
    ) async throws -> SessionRow? {
        record("updateTokens")
        return try await base.updateTokens(
            idHash, expectedVersion: expectedVersion, sealed: sealed, absoluteExpiresAt: absoluteExpiresAt)
    }

    func deleteSession(_ idHash: SessionHash) async throws -> Bool {
        record("deleteSession")
        return try await base.deleteSession(idHash)
    }

    func takeSession(_ idHash: SessionHash) async throws -> SessionRow? {
        record("takeSession")
        return try await base.takeSession(idHash)
    }

    func deleteSessions(subject: String, provider: String?) async throws -> [SessionHash] {
        try await base.deleteSessions(subject: subject, provider: provider)
    }

    func deleteSessions(idpSessionID: String, provider: String?) async throws -> [SessionHash] {
        try await base.deleteSessions(idpSessionID: idpSessionID, provider: provider)
    }

    func deleteAllSessions() async throws -> Int { try await base.deleteAllSessions() }

    func listSessions(limit: Int) async throws -> [SessionRow] { try await base.listSessions(limit: limit) }

    func countSessions(activeAt now: Int64) async throws -> Int { try await base.countSessions(activeAt: now) }

    func insertPending(_ row: PendingRow) async throws { try await base.insertPending(row) }

    func takePending(_ stateHash: SessionHash, now: Int64) async throws -> PendingRow? {
        try await base.takePending(stateHash, now: now)
    }

    func takePending(_ stateHash: SessionHash, bindingHash: SessionHash, now: Int64) async throws -> PendingTake {
        try await base.takePending(stateHash, bindingHash: bindingHash, now: now)
    }

    func deletePending(stateHashPrefix: [UInt8], bindingHash: SessionHash) async throws -> Bool {
        try await base.deletePending(stateHashPrefix: stateHashPrefix, bindingHash: bindingHash)
    }

    func countPending(activeAt now: Int64) async throws -> Int { try await base.countPending(activeAt: now) }

    func purgeExpiredPending(now: Int64, limit: Int) async throws -> Int {
        try await base.purgeExpiredPending(now: now, limit: limit)
    }

    func purgeExpired(now: Int64, limit: Int) async throws -> Int { try await base.purgeExpired(now: now, limit: limit) }

    func withSessionLock<T: Sendable>(
        _ idHash: SessionHash, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await base.withSessionLock(idHash, body)
    }
}
