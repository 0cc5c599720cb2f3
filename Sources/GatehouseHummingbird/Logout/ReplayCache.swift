public import Foundation
import Synchronization

/// The `jti`s of accepted logout tokens, each kept until its token expires (plus the clock
/// skew), so the same token cannot be played twice (Back-Channel Logout 1.0 §2.6 step 8).
///
/// Bounded: at ``capacity`` expired entries are dropped first; if every entry is still live,
/// the one expiring soonest is evicted (and a warning is due). Evicting rather than refusing
/// keeps logout working under a storm of genuine, IdP-signed tokens: a replay can at worst end
/// sessions of an IdP session that has already ended, while a refused logout would leave them
/// open. Per process: instances behind a load balancer keep their own caches.
public final class ReplayCache: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// First time seen; now recorded.
        case recorded
        /// Recorded, but an unexpired entry had to be evicted to make room.
        case recordedAfterEviction
        /// Seen before and not yet expired: a replay.
        case replayed
    }

    /// The most entries kept. Default 10,000.
    public let capacity: Int
    private let entries = Mutex<[String: Date]>([:])

    public init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// Records `id` until `expiresAt`, unless it is already there.
    public func record(_ id: String, until expiresAt: Date, now: Date) -> Outcome {
        entries.withLock { entries in
            if let existing = entries[id], existing > now { return .replayed }
            var outcome = Outcome.recorded
            if entries.count >= capacity {
                entries = entries.filter { $0.value > now }
                if entries.count >= capacity, let soonest = entries.min(by: { $0.value < $1.value }) {
                    entries[soonest.key] = nil
                    outcome = .recordedAfterEviction
                }
            }
            entries[id] = expiresAt
            return outcome
        }
    }

    /// Forgets `id` (its logout could not be completed, so the IdP may retry it).
    public func forget(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// How many entries are held (expired ones not yet dropped included).
    public var count: Int { entries.withLock { $0.count } }
}
