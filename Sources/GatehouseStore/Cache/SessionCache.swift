import Foundation
import Synchronization

/// The bounded in-memory read cache in front of the store.
///
/// Entries remember when they were read from the driver and are served only for `ttl` after
/// that, which bounds how long a revocation made by another instance can go unnoticed. Local
/// deletes and updates change the cache immediately. When full, the oldest entries go first.
///
/// A read that raced with a local delete must not put the deleted session back: callers take
/// a ``readTicket()`` before reading the driver and hand it to ``put(_:readAt:ticket:)``, which
/// drops the entry if any invalidation happened in between.
///
/// Entries are ``CachedSession``s: the claims and the access token, never the refresh or ID
/// token (see ``SessionTokens``), packed to stay under 2 KiB per session with realistic
/// tokens.
final class SessionCache: Sendable {
    private struct Entry {
        var session: CachedSession
        var readAt: Date
        var sequence: UInt64
    }

    private struct State {
        var entries: [SessionHash: Entry] = [:]
        /// Insertion order (hash, sequence); entries whose sequence no longer matches are stale.
        var order: [(hash: SessionHash, sequence: UInt64)] = []
        var head = 0
        var nextSequence: UInt64 = 0
        var invalidations: UInt64 = 0
    }

    /// A snapshot of the invalidation counter, taken before a driver read.
    struct Ticket: Sendable {
        fileprivate let invalidations: UInt64
    }

    let capacity: Int
    let ttl: TimeInterval
    private let state = Mutex(State())

    init(capacity: Int, ttl: Duration) {
        self.capacity = max(0, capacity)
        self.ttl = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
    }

    /// The number of entries (fresh or not yet evicted).
    var count: Int { state.withLock { $0.entries.count } }

    /// The cached session if it was read less than `ttl` ago; a stale entry is dropped.
    func get(_ hash: SessionHash, now: Date) -> Session? {
        state.withLock { state in
            guard let entry = state.entries[hash] else { return nil }
            guard now < entry.readAt.addingTimeInterval(ttl), now >= entry.readAt.addingTimeInterval(-ttl) else {
                state.entries[hash] = nil
                return nil
            }
            return entry.session.session(idHash: hash)
        }
    }

    func readTicket() -> Ticket {
        state.withLock { Ticket(invalidations: $0.invalidations) }
    }

    /// Stores `session` as read (or written) at `readAt`. With a `ticket`, nothing is stored if
    /// anything was invalidated since the ticket was taken. An entry with a newer version is
    /// never replaced by an older one.
    func put(_ session: Session, readAt: Date, ticket: Ticket? = nil) {
        guard capacity > 0, ttl > 0 else { return }
        let packed = CachedSession(session)  // outside the lock
        state.withLock { state in
            if let ticket, ticket.invalidations != state.invalidations { return }
            if let existing = state.entries[session.idHash] {
                guard existing.session.version <= session.version else { return }
                var cached = packed
                if existing.session.version == session.version, existing.session.lastSeenAt > session.lastSeenAt {
                    // Keep a touch this instance already recorded (concurrent reads of one row).
                    cached.lastSeenAt = existing.session.lastSeenAt
                    cached.idleExpiresAt = existing.session.idleExpiresAt
                }
                state.entries[session.idHash] = Entry(session: cached, readAt: readAt, sequence: existing.sequence)
                return
            }
            let sequence = state.nextSequence
            state.nextSequence &+= 1
            state.entries[session.idHash] = Entry(session: packed, readAt: readAt, sequence: sequence)
            state.order.append((session.idHash, sequence))
            evict(&state)
        }
    }

    /// Records a touch in the cached entry. Returns `false` when the cached entry already shows
    /// a last-seen time after `threshold` (another request of this instance touched it), so
    /// that concurrent requests write once.
    func claimTouch(_ hash: SessionHash, lastSeenAt: Date, idleExpiresAt: Date, threshold: Date) -> Bool {
        state.withLock { state in
            guard var entry = state.entries[hash] else { return true }
            guard entry.session.lastSeenAt <= threshold else { return false }
            entry.session.lastSeenAt = lastSeenAt
            entry.session.idleExpiresAt = idleExpiresAt
            state.entries[hash] = entry
            return true
        }
    }

    /// Drops an entry without counting as an invalidation (for rows found missing).
    func remove(_ hash: SessionHash) {
        state.withLock { state in _ = state.entries.removeValue(forKey: hash) }
    }

    func invalidate(_ hash: SessionHash) {
        state.withLock { state in
            state.invalidations &+= 1
            state.entries[hash] = nil
        }
    }

    func invalidate(_ hashes: some Sequence<SessionHash>) {
        state.withLock { state in
            state.invalidations &+= 1
            for hash in hashes { state.entries[hash] = nil }
        }
    }

    func removeAll() {
        state.withLock { state in
            state.invalidations &+= 1
            state.entries.removeAll()
            state.order.removeAll()
            state.head = 0
        }
    }

    private func evict(_ state: inout State) {
        while state.entries.count > capacity, state.head < state.order.count {
            let (hash, sequence) = state.order[state.head]
            state.head += 1
            if state.entries[hash]?.sequence == sequence { state.entries[hash] = nil }
        }
        // Keep the order list proportional to the live entries: drop consumed and stale slots.
        let live = state.order.count - state.head
        if state.head > 1024 && state.head * 2 > state.order.count || live > 2 * max(state.entries.count, 512) {
            let entries = state.entries
            let kept = state.order[state.head...].filter { entries[$0.hash]?.sequence == $0.sequence }
            state.order = Array(kept)
            state.head = 0
        }
    }
}
