import Foundation
import JWTKit
import Logging
import Synchronization

/// Where a token whose signing key is looked up came from: it decides how freely a `kid` the
/// cached key set lacks may make the cache refetch the JWKS.
enum KeyLookupSource: Sendable {
    /// An ID token the token endpoint just returned, over TLS, in answer to our authenticated
    /// request (a code exchange or a refresh). Only the IdP can put a `kid` there, so an unknown
    /// one always refetches — one fetch shared by every login waiting for it.
    case tokenEndpoint
    /// A token anyone can send: a back-channel logout token, a bearer token, an ID token an
    /// application hands in. Unknown `kid`s share one small budget
    /// (``JWKSCache/untrustedRefetchInterval``), so random ones cannot make us hammer the IdP,
    /// and never hold up a login.
    case untrusted
}

/// The IdP's keys, fetched once, reused, and refreshed in the background after `maxAge`.
///
/// A token naming a `kid` the keys lack refetches them (key rotation; an IdP cluster whose
/// nodes serve different key sets during a rollout): always for an ID token from the token
/// endpoint, within a budget for the others (see ``KeyLookupSource``). No caller whose key is
/// already held ever waits for a fetch: a stale set keeps serving while its refresh runs.
final class JWKSCache: Sendable {
    private struct Fetch: Sendable {
        let task: Task<KeySet, any Error>
        /// Fetches are numbered in the order they start; a later one's keys win.
        let sequence: UInt64
        /// Started for an untrusted token's unknown `kid`: a login does not wait for it.
        let untrusted: Bool
    }

    private struct State {
        var keys: KeySet?
        var keysSequence: UInt64 = 0
        var fetchedAt: Date?
        var started: UInt64 = 0
        /// The newest fetch in flight.
        var inflight: Fetch?
        var lastUntrustedRefetch: Date?
        /// After a failed background refresh, the next one waits until then.
        var refreshRetryAt: Date?
    }

    private let state = Mutex(State())
    private let transport: IdPTransport
    private let url: String
    private let algorithms: Set<String>
    private let maxAge: Duration
    private let untrustedRefetchInterval: Duration
    private let clock: WallClock
    private let logger: Logger

    init(
        transport: IdPTransport,
        url: String,
        algorithms: Set<String>,
        maxAge: Duration,
        untrustedRefetchInterval: Duration,
        clock: WallClock,
        logger: Logger
    ) {
        self.transport = transport
        self.url = url
        self.algorithms = algorithms
        self.maxAge = maxAge
        self.untrustedRefetchInterval = untrustedRefetchInterval
        self.clock = clock
        self.logger = logger
    }

    /// The verifier for a token header's `kid` and `alg`, refetching the keys when the `kid` is
    /// unknown as `source` allows.
    func verifier(keyID: String?, algorithm: String, source: KeyLookupSource) async throws(OAuthError) -> any JWTAlgorithm {
        let keys = try await current()
        do {
            return try keys.verifier(keyID: keyID, algorithm: algorithm)
        } catch where error.code == .idTokenKeyNotFound {
            switch source {
            case .tokenEndpoint: return try await refetchForTokenEndpoint(keyID: keyID, algorithm: algorithm)
            case .untrusted: return try await refetchForUntrusted(keyID: keyID, algorithm: algorithm, notFound: error)
            }
        }
    }

    /// The cached keys; fetched first (and awaited) only when there are none. Keys older than
    /// `maxAge` are returned at once while a refresh runs in the background; a failed refresh
    /// keeps them and is retried after ``untrustedRefetchInterval``.
    func current() async throws(OAuthError) -> KeySet {
        let now = clock.now
        enum Decision {
            case use(KeySet)
            case wait(Fetch)
        }
        let decision = state.withLock { state -> Decision in
            guard let keys = state.keys, let fetchedAt = state.fetchedAt else {
                return .wait(state.inflight ?? startFetch(&state, untrusted: false))
            }
            let stale = now.timeIntervalSince(fetchedAt) >= maxAge.timeInterval
            let mayRetry = state.refreshRetryAt.map { now >= $0 } ?? true
            if stale, mayRetry, state.inflight == nil {
                _ = startFetch(&state, untrusted: false)
            }
            return .use(keys)
        }
        switch decision {
        case .use(let keys): return keys
        case .wait(let fetch): return try await finish(fetch)
        }
    }

    /// An ID token from the token endpoint names a `kid` the keys lack: wait for a fetch that
    /// a login (or the scheduled refresh) started, else start one. When the fetch joined began
    /// before this token's `kid` was found missing and still lacks it, one more fetch (again
    /// shared): the key may have been published meanwhile. Never waits for a fetch an untrusted
    /// token started.
    private func refetchForTokenEndpoint(keyID: String?, algorithm: String) async throws(OAuthError) -> any JWTAlgorithm {
        let lookedAt = state.withLock { $0.started }
        logger.info("an ID token from the token endpoint names an unknown kid; refetching the JWKS")
        var retried = false
        while true {
            let fetch = state.withLock { state -> Fetch in
                if let inflight = state.inflight, !inflight.untrusted || inflight.sequence > lookedAt {
                    return inflight
                }
                return startFetch(&state, untrusted: false)
            }
            let keys = try await finish(fetch)
            do {
                return try keys.verifier(keyID: keyID, algorithm: algorithm)
            } catch where error.code == .idTokenKeyNotFound && fetch.sequence <= lookedAt && !retried {
                retried = true
            }
        }
    }

    /// A token anyone can send names a `kid` the keys lack: wait for a fetch already in flight
    /// (free), else spend the shared budget — one refetch per ``untrustedRefetchInterval`` —
    /// or fail with `notFound` when it is spent.
    private func refetchForUntrusted(
        keyID: String?, algorithm: String, notFound: OAuthError
    ) async throws(OAuthError) -> any JWTAlgorithm {
        let now = clock.now
        let fetch = state.withLock { state -> Fetch? in
            if let inflight = state.inflight { return inflight }
            if let last = state.lastUntrustedRefetch, now.timeIntervalSince(last) < untrustedRefetchInterval.timeInterval {
                return nil
            }
            state.lastUntrustedRefetch = now
            return startFetch(&state, untrusted: true)
        }
        guard let fetch else {
            logger.debug("a token names an unknown kid; the untrusted refetch budget is spent")
            throw notFound
        }
        logger.info("a token names an unknown kid; refetching the JWKS")
        return try await finish(fetch).verifier(keyID: keyID, algorithm: algorithm)
    }

    /// Starts a fetch and records it as the newest in flight. Call with the lock held. The
    /// fetch stores its own keys (when no later fetch's are stored already), so it completes
    /// whether or not anyone awaits it.
    private func startFetch(_ state: inout State, untrusted: Bool) -> Fetch {
        state.started += 1
        let sequence = state.started
        let task = Task { [self] () async throws -> KeySet in
            let result: Result<KeySet, OAuthError>
            do throws(OAuthError) {
                result = .success(try await download())
            } catch {
                result = .failure(error)
            }
            settle(result, sequence: sequence)
            return try result.get()
        }
        let fetch = Fetch(task: task, sequence: sequence, untrusted: untrusted)
        state.inflight = fetch
        return fetch
    }

    private func download() async throws(OAuthError) -> KeySet {
        let response = try await transport.send(.GET, url, endpoint: "JWKS endpoint")
        guard response.status == 200 else {
            throw OAuthError(
                .unexpectedStatus, "the JWKS endpoint answered HTTP \(response.status)",
                httpStatus: response.status, bodyExcerpt: response.excerpt)
        }
        return try await KeySet.build(jwks: response.body, algorithms: algorithms)
    }

    /// Records a finished fetch: its keys unless a later fetch's are held, and clears the
    /// in-flight marker if it is still this fetch's.
    private func settle(_ result: Result<KeySet, OAuthError>, sequence: UInt64) {
        let now = clock.now
        let hadKeys = state.withLock { state -> Bool in
            if state.inflight?.sequence == sequence { state.inflight = nil }
            switch result {
            case .success(let keys) where sequence > state.keysSequence:
                state.keys = keys
                state.keysSequence = sequence
                state.fetchedAt = now
                state.refreshRetryAt = nil
            case .success:
                break
            case .failure:
                state.refreshRetryAt = now.addingTimeInterval(untrustedRefetchInterval.timeInterval)
            }
            return state.keys != nil
        }
        if case .failure(let error) = result, hadKeys {
            logger.warning("JWKS fetch failed; keeping the keys already held", metadata: ["error": "\(error.code)"])
        }
    }

    private func finish(_ fetch: Fetch) async throws(OAuthError) -> KeySet {
        switch await fetch.task.result {
        case .success(let keys): return keys
        case .failure(let error as OAuthError): throw error
        case .failure(let error):
            throw OAuthError(.transport, "the JWKS fetch failed: \(OAuthError.sanitize("\(error)", limit: 120))")
        }
    }
}

extension Duration {
    /// Seconds, with the fraction.
    fileprivate var timeInterval: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}
