extension SessionStore {
    /// Lifetimes, throttles and cache bounds of a ``SessionStore``.
    public struct Configuration: Sendable {
        /// A session ends after this long without a request. Default 8 hours
        /// (`GATEHOUSE_SESSION_IDLE_TIMEOUT`).
        public var idleTimeout: Duration
        /// A session ends this long after login, whatever the activity; earlier when the
        /// refresh token expires earlier. Default 7 days (`GATEHOUSE_SESSION_MAX_AGE`).
        public var maxAge: Duration
        /// The last-seen time (and so the idle deadline) is written at most once per interval
        /// per session, not on every request. The idle deadline can therefore come up to this
        /// much earlier than the exact one. Default 60 seconds.
        public var touchInterval: Duration
        /// The most sessions the read cache holds; the oldest go first. `0` disables the
        /// cache. Default 100,000.
        public var cacheCapacity: Int
        /// How long a cached session is served without asking the store again: the bound on
        /// how long a revocation made by *another* instance (or a `gatehouse sessions revoke`)
        /// goes unnoticed here. Revocations through this instance take effect at once. `0`
        /// disables the cache. Default 5 seconds.
        public var cacheTTL: Duration
        /// How long a pending authorization (a login in flight) may wait for its callback.
        /// Default 10 minutes.
        public var pendingLifetime: Duration

        public init(
            idleTimeout: Duration = .seconds(8 * 3600),
            maxAge: Duration = .seconds(7 * 86400),
            touchInterval: Duration = .seconds(60),
            cacheCapacity: Int = 100_000,
            cacheTTL: Duration = .seconds(5),
            pendingLifetime: Duration = .seconds(600)
        ) {
            self.idleTimeout = idleTimeout
            self.maxAge = maxAge
            self.touchInterval = touchInterval
            self.cacheCapacity = cacheCapacity
            self.cacheTTL = cacheTTL
            self.pendingLifetime = pendingLifetime
        }
    }
}

extension Duration {
    /// Whole milliseconds (rounded down), as rows store time.
    var storeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds, for `Date` arithmetic.
    var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
