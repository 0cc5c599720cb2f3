import Synchronization

/// The result of `/readyz`'s checks, reused for ``ttl``: however many probes arrive (a load
/// balancer per node, a flood from anyone who can reach the listener), the store and the
/// IdP are asked at most once per ``ttl``, and probes arriving while a check runs wait for
/// that one (single flight) instead of starting their own.
final class ReadinessCache: Sendable {
    /// How long a result is reused: 2 seconds, short beside any probe interval.
    static let defaultTTL: Duration = .seconds(2)

    private enum State {
        case empty
        case running(Task<[String], Never>)
        case done([String], at: ContinuousClock.Instant)
    }

    let ttl: Duration
    /// How many checks have started (each asks the store and the IdP once).
    var checksStarted: Int { started.load(ordering: .relaxed) }
    private let started = Atomic(0)
    private let check: @Sendable () async -> [String]
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State.empty)

    /// - Parameters:
    ///   - check: the problems found (empty: ready).
    ///   - now: the clock (tests move it).
    init(
        ttl: Duration = defaultTTL, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        check: @escaping @Sendable () async -> [String]
    ) {
        self.ttl = ttl
        self.now = now
        self.check = check
    }

    /// The problems found by the last check if it ended less than ``ttl`` ago, else by a
    /// new (or the running) one.
    func problems() async -> [String] {
        enum Next {
            case reuse([String])
            case wait(Task<[String], Never>)
        }
        let next: Next = state.withLock { state in
            switch state {
            case .done(let problems, let at) where now() - at < ttl:
                return .reuse(problems)
            case .running(let task):
                return .wait(task)
            case .empty, .done:
                started.add(1, ordering: .relaxed)
                let task = Task { [check, now] in
                    let problems = await check()
                    self.state.withLock { $0 = .done(problems, at: now()) }
                    return problems
                }
                state = .running(task)
                return .wait(task)
            }
        }
        switch next {
        case .reuse(let problems): return problems
        case .wait(let task): return await task.value
        }
    }
}
