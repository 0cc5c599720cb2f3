import Foundation
import GatehouseStore
import Logging
import Synchronization

/// Enforces ``PendingLoginLimits`` for one process.
///
/// - Globally: the store's count of live pending authorizations (every process sharing the
///   store adds to it), read at most once a second, plus the logins this process started
///   and minus those it ended since. Each read first purges one batch of expired pending
///   rows, so while logins are being started, expired ones leave the store at once instead
///   of at the next periodic purge.
/// - Per client address: the logins this process started for it that have not expired, been
///   completed or given up here. (Per process: a completion on another gateway instance frees
///   the slot only when the login expires.)
final class PendingLoginLimiter: Sendable {
    enum Admission: Equatable {
        case admitted
        case clientLimit
        case globalLimit
    }

    private struct Login {
        /// The first six bytes of its state hash, as its binding cookie's name carries them.
        var key: UInt64
        var expiresAt: Date
    }

    private struct State {
        /// Each client's logins, oldest first.
        var clients: [String: [Login]] = [:]
        var clientOfLogin: [UInt64: String] = [:]
        var storeCount = 0
        /// Logins started minus logins ended by this process since `countedAt`.
        var delta = 0
        var countedAt: Date?
        var counting = false
        var sweptAt = Date.distantPast
        var refusalsUnlogged = 0
        var loggedAt = Date.distantPast
    }

    let limits: PendingLoginLimits
    private let state = Mutex(State())

    init(limits: PendingLoginLimits) {
        self.limits = limits
    }

    /// The key of a login by its state (or its binding cookie's name).
    static func key(stateHashPrefix prefix: some Collection<UInt8>) -> UInt64 {
        prefix.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// Reads the store's count (after purging a batch of expired rows) when the last read is
    /// a second old or more; one caller at a time, the others go on with the last count.
    func refreshIfDue(store: SessionStore, logger: Logger) async {
        let now = store.clock.now
        let due = state.withLock { state -> Bool in
            guard !state.counting else { return false }
            if let countedAt = state.countedAt, now.timeIntervalSince(countedAt) < 1, now >= countedAt { return false }
            state.counting = true
            return true
        }
        guard due else { return }
        var count: Int?
        do {
            _ = try await store.purgeExpiredPending()
            count = try await store.pendingCount()
        } catch {
            logger.warning("cannot count pending logins", metadata: ["error": "\(AuthService.errorCode(error))"])
        }
        state.withLock { state in
            state.counting = false
            guard let count else { return }
            state.storeCount = count
            state.delta = 0
            state.countedAt = now
        }
    }

    /// Whether one more login may start for `client` at `now` (nothing is recorded).
    func admission(client: String?, now: Date) -> Admission {
        state.withLock { state in
            if let client {
                Self.prune(&state, client: client, now: now)
                if state.clients[client, default: []].count >= limits.maxPendingPerClient { return .clientLimit }
            }
            if now.timeIntervalSince(state.sweptAt) >= 60 {
                for client in Array(state.clients.keys) { Self.prune(&state, client: client, now: now) }
                state.sweptAt = now
            }
            return state.storeCount + state.delta >= limits.maxPending ? .globalLimit : .admitted
        }
    }

    /// A login was stored for `client`.
    func started(key: UInt64, client: String?, expiresAt: Date) {
        state.withLock { state in
            state.delta += 1
            guard let client else { return }
            state.clients[client, default: []].append(Login(key: key, expiresAt: expiresAt))
            state.clientOfLogin[key] = client
        }
    }

    /// A login left the store (completed, or given up by its browser).
    func ended(key: UInt64) {
        state.withLock { state in
            state.delta -= 1
            guard let client = state.clientOfLogin.removeValue(forKey: key) else { return }
            state.clients[client]?.removeAll { $0.key == key }
            if state.clients[client]?.isEmpty == true { state.clients[client] = nil }
        }
    }

    /// Counts a refusal; returns how many refusals to report when a log line is due (at most
    /// one a second, so a flood does not flood the log too), else `nil`.
    func refusalToLog(now: Date) -> Int? {
        state.withLock { state in
            state.refusalsUnlogged += 1
            guard now.timeIntervalSince(state.loggedAt) >= 1 || now < state.loggedAt else { return nil }
            defer { state.refusalsUnlogged = 0 }
            state.loggedAt = now
            return state.refusalsUnlogged
        }
    }

    private static func prune(_ state: inout State, client: String, now: Date) {
        guard var logins = state.clients[client] else { return }
        let expired = logins.prefix { $0.expiresAt <= now }
        guard !expired.isEmpty else { return }
        for login in expired { state.clientOfLogin[login.key] = nil }
        logins.removeFirst(expired.count)
        state.clients[client] = logins.isEmpty ? nil : logins
    }
}
