public import Foundation

/// The source of "now" for every time-dependent check, so tests can use a manual clock.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    /// A clock that reads the given closure.
    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    /// The system clock.
    public static let system = WallClock { Date() }

    /// The current instant.
    public var now: Date { read() }
}
