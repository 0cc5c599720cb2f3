import NIOCore

/// The slowest a client may send a request body (`GATEHOUSE_MIN_BODY_RATE` bytes per second,
/// averaged over each `GATEHOUSE_MIN_BODY_RATE_WINDOW`); ``ClientReadTimeout`` closes a
/// connection whose body falls below it. Only the client's turn counts: time in which the
/// gateway does not ask for more (the upstream reads slowly, backpressure) is not the client's
/// fault and is left out.
///
/// Why a window and not the read timeout alone: the read timeout counts any byte as progress,
/// so one byte every 25 s held an upload, and its upstream connection, open forever. Why not
/// an average since the start (Apache's `MinRate`): a fast start would buy hours of trickling.
public struct MinimumBodyRate: Sendable, Hashable {
    /// Bytes per second. Default 1024 (8 kbit/s: below any real uplink, so no honest client is
    /// cut off; Apache's `mod_reqtimeout` defaults to 500).
    public var bytesPerSecond: Int
    /// The span each check averages over; the first one is the grace period after the head
    /// (slow start, a radio waking up, `Expect: 100-continue`). Default 30 seconds, as the
    /// client read timeout.
    public var window: Duration

    public init(bytesPerSecond: Int = 1024, window: Duration = .seconds(30)) {
        self.bytesPerSecond = bytesPerSecond
        self.window = window
    }

    /// The bytes one window must bring.
    var bytesPerWindow: Int {
        let (seconds, attoseconds) = window.components
        return Int((Double(seconds) + Double(attoseconds) / 1e18) * Double(bytesPerSecond))
    }

    /// Measures one request body, window by window, in the client's time. Pure: every call
    /// takes `now`.
    struct Meter {
        enum Verdict: Equatable {
            /// The window has not ended yet.
            case running
            /// The window ended with enough bytes; the next one starts.
            case passed
            /// The window ended with `received` bytes, fewer than `required`.
            case tooSlow(received: Int, required: Int)
        }

        let window: TimeAmount
        let required: Int
        /// Bytes of the current window.
        private(set) var bytes = 0
        /// The client's time in the current window, not counting the wait in progress.
        private var elapsed = TimeAmount.zero
        /// Since when the gateway has been waiting for the client (a read is outstanding).
        private var waitingSince: NIODeadline?

        init(_ rate: MinimumBodyRate) {
            self.window = TimeAmount(rate.window)
            self.required = rate.bytesPerWindow
        }

        /// The gateway asks for more: the client's turn (again) from `now`.
        mutating func waiting(now: NIODeadline) {
            if waitingSince == nil { waitingSince = now }
        }

        /// Body bytes arrived; the gateway's turn until it asks again.
        mutating func received(_ count: Int, now: NIODeadline) {
            pause(now: now)
            bytes += count
        }

        /// The gateway stops waiting (it has what it asked for).
        mutating func pause(now: NIODeadline) {
            if let since = waitingSince {
                elapsed = elapsed + (now - since)
                waitingSince = nil
            }
        }

        /// When the current window ends if the client keeps the turn; `nil` when it is the
        /// gateway's turn (the clock is stopped).
        func windowEnd(now: NIODeadline) -> NIODeadline? {
            guard let since = waitingSince else { return nil }
            return now + (window - elapsed - (now - since))
        }

        /// Whether the current window has ended and how it went; a passed window starts the next.
        mutating func check(now: NIODeadline) -> Verdict {
            let total = elapsed + (waitingSince.map { now - $0 } ?? .zero)
            guard total >= window else { return .running }
            guard bytes >= required else { return .tooSlow(received: bytes, required: required) }
            bytes = 0
            elapsed = .zero
            if waitingSince != nil { waitingSince = now }
            return .passed
        }
    }
}
