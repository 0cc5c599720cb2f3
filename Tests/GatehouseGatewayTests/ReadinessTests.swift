import Foundation
import Synchronization
import Testing

@testable import GatehouseGateway

/// `/readyz` is not a database-cost amplifier: its store and IdP checks run at most once per
/// ``ReadinessCache/ttl`` (2 s), and probes arriving during a check share it.
@Suite("Readiness checks are cached")
struct ReadinessTests {
    final class ManualClock: Sendable {
        private let instant = Mutex(ContinuousClock.now)
        func now() -> ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
    }

    /// Counts checks and holds each until the test opens the gate.
    final class Probe: Sendable {
        private let state = Mutex((count: 0, running: 0, maxRunning: 0))
        private let gate: AsyncStream<Void>
        private let opener: AsyncStream<Void>.Continuation
        let started: AsyncStream<Void>
        private let startedSignal: AsyncStream<Void>.Continuation
        let answer: [String]

        init(answer: [String] = [], gated: Bool) {
            self.answer = answer
            (gate, opener) = AsyncStream.makeStream()
            (started, startedSignal) = AsyncStream.makeStream()
            if !gated { opener.finish() }
        }

        var count: Int { state.withLock { $0.count } }
        var maxRunning: Int { state.withLock { $0.maxRunning } }
        func open() { opener.finish() }

        func check() async -> [String] {
            state.withLock {
                $0.count += 1
                $0.running += 1
                $0.maxRunning = max($0.maxRunning, $0.running)
            }
            startedSignal.yield()
            for await _ in gate {}
            for _ in 0..<10 { await Task.yield() }
            state.withLock { $0.running -= 1 }
            return answer
        }
    }

    @Test func fiftyConcurrentProbesShareOneCheckAndLaterOnesReuseItUntilTheTTL() async throws {
        let clock = ManualClock()
        let probe = Probe(answer: ["store"], gated: true)
        let cache = ReadinessCache(now: { clock.now() }, check: { await probe.check() })
        let results = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<50 { group.addTask { await cache.problems() } }
            for await _ in probe.started { break }
            probe.open()
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 50 && results.allSatisfy { $0 == ["store"] })
        #expect(probe.count == 1)
        for _ in 0..<50 {
            let problems = await cache.problems()
            #expect(problems == ["store"])
        }
        #expect(probe.count == 1)
        clock.advance(.milliseconds(1999))
        _ = await cache.problems()
        #expect(probe.count == 1)
        clock.advance(.milliseconds(1))
        _ = await cache.problems()
        #expect(probe.count == 2)
        #expect(cache.checksStarted == 2)
    }

    /// Without reuse (a zero TTL), checks still never run side by side.
    @Test func neverTwoChecksAtOnce() async {
        let probe = Probe(gated: false)
        let cache = ReadinessCache(ttl: .zero, check: { await probe.check() })
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 { group.addTask { _ = await cache.problems() } }
        }
        #expect(probe.maxRunning == 1)
        #expect(probe.count >= 1)
    }
}
