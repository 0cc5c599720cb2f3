import Foundation
import GatehouseOAuth
import Synchronization

/// A clock that moves only when a test says so.
final class ManualWallClock: Sendable {
    /// Far in the past on purpose: a purge run by these tests against a shared PostgreSQL
    /// database can only reach rows written on this clock, never rows of tests on real time.
    static let defaultStart = Date(timeIntervalSince1970: 1_000_000_000)

    private let current: Mutex<Date>

    init(start: Date = ManualWallClock.defaultStart) {
        current = Mutex(start)
    }

    var now: Date { current.withLock { $0 } }

    var wallClock: WallClock { WallClock { self.now } }

    func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(Double(duration.components.seconds)) }
    }
}
