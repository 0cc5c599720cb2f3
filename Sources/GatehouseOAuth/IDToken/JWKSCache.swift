import Foundation
import Logging
import Synchronization

/// The IdP's keys, fetched once, reused, refreshed after `maxAge`, and refetched early — at most
/// once per `minimumRefetchInterval` — when a token names a `kid` we have not seen (key
/// rotation). Concurrent callers share one fetch.
final class JWKSCache: Sendable {
    private struct State {
        var keys: KeySet?
        var fetchedAt: Date?
        var lastUnknownKeyRefetch: Date?
        var inflight: Task<KeySet, any Error>?
    }

    private let state = Mutex(State())
    private let transport: IdPTransport
    private let url: String
    private let algorithms: Set<String>
    private let maxAge: Duration
    private let minimumRefetchInterval: Duration
    private let clock: WallClock
    private let logger: Logger

    init(
        transport: IdPTransport,
        url: String,
        algorithms: Set<String>,
        maxAge: Duration,
        minimumRefetchInterval: Duration,
        clock: WallClock,
        logger: Logger
    ) {
        self.transport = transport
        self.url = url
        self.algorithms = algorithms
        self.maxAge = maxAge
        self.minimumRefetchInterval = minimumRefetchInterval
        self.clock = clock
        self.logger = logger
    }

    /// The cached keys, fetched first when there are none or they are older than `maxAge`.
    /// A failed scheduled refresh keeps serving the keys already held.
    func current() async throws(OAuthError) -> KeySet {
        let now = clock.now
        let cached = state.withLock { state -> (KeySet?, Bool) in
            guard let keys = state.keys, let fetchedAt = state.fetchedAt else { return (nil, true) }
            return (keys, now.timeIntervalSince(fetchedAt) >= TimeInterval(maxAge.components.seconds))
        }
        switch cached {
        case (let keys?, false):
            return keys
        case (let keys?, true):
            do {
                return try await fetch()
            } catch {
                logger.warning("JWKS refresh failed; keeping the keys already held", metadata: ["error": "\(error.code)"])
                return keys
            }
        case (nil, _):
            return try await fetch()
        }
    }

    /// Refetches because a token named an unknown `kid`, at most once per
    /// `minimumRefetchInterval` (so a flood of forged kids cannot make us hammer the IdP).
    /// A caller arriving while a refetch runs waits for it; one arriving after it, within the
    /// interval, gets the keys it brought. `nil` only when there are no keys at all.
    func refetchForUnknownKey() async throws(OAuthError) -> KeySet? {
        let now = clock.now
        enum Decision {
            case join(Task<KeySet, any Error>)
            case useLatest(KeySet?)
        }
        // Deciding and starting happen under one lock, so a second caller cannot slip between.
        let decision = state.withLock { state -> Decision in
            if let inflight = state.inflight { return .join(inflight) }
            if let last = state.lastUnknownKeyRefetch,
                now.timeIntervalSince(last) < TimeInterval(minimumRefetchInterval.components.seconds)
            {
                return .useLatest(state.keys)
            }
            state.lastUnknownKeyRefetch = now
            return .join(startFetch(&state))
        }
        switch decision {
        case .useLatest(let keys):
            return keys
        case .join(let task):
            logger.info("ID token names an unknown kid; refetching the JWKS")
            return try await finish(task)
        }
    }

    /// One fetch at a time; callers arriving meanwhile await the same result.
    private func fetch() async throws(OAuthError) -> KeySet {
        let task = state.withLock { state in state.inflight ?? startFetch(&state) }
        return try await finish(task)
    }

    /// Starts a fetch and records it as in flight. Call with the lock held.
    private func startFetch(_ state: inout State) -> Task<KeySet, any Error> {
        let task = Task { [transport, url, algorithms] in
            let response = try await transport.send(.GET, url, endpoint: "JWKS endpoint")
            guard response.status == 200 else {
                throw OAuthError(
                    .unexpectedStatus, "the JWKS endpoint answered HTTP \(response.status)",
                    httpStatus: response.status, bodyExcerpt: response.excerpt)
            }
            return try await KeySet.build(jwks: response.body, algorithms: algorithms)
        }
        state.inflight = task
        return task
    }

    /// Awaits a fetch, stores its keys, and clears the in-flight marker.
    private func finish(_ task: Task<KeySet, any Error>) async throws(OAuthError) -> KeySet {
        let result = await task.result
        let now = clock.now
        state.withLock { state in
            if case .success(let keys) = result {
                state.keys = keys
                state.fetchedAt = now
            }
            if state.inflight == task { state.inflight = nil }
        }
        switch result {
        case .success(let keys): return keys
        case .failure(let error as OAuthError): throw error
        case .failure(let error): throw OAuthError(.transport, "the JWKS fetch failed: \(OAuthError.sanitize("\(error)", limit: 120))")
        }
    }
}
