public import GatehouseOAuth
public import Logging
import Metrics
import Synchronization

/// Keeps a session's access token fresh: however many requests find it expiring at the same
/// moment, one `refresh_token` grant reaches the IdP and everyone uses its result.
///
/// In one process a single-flight table joins concurrent callers per session; across
/// processes sharing a store the driver's ``StorageDriver/withSessionLock(_:_:)`` (a
/// PostgreSQL advisory lock) serialises them, and the session's version tells a waiter that
/// someone else has already refreshed. `invalid_grant` ends the session; a transient failure
/// keeps the old tokens.
///
/// After a transient failure, a session's refresh is not tried again for
/// ``retryAfterFailure``: its requests learn of the failure at once instead of each waiting
/// out the IdP's timeout while the IdP is down.
///
/// Each grant sent to the IdP counts in `gatehouse_token_refreshes_total{result}` (swift-metrics):
/// `succeeded`, `refused` (`invalid_grant`, the session ended) or `failed` (IdP unreachable or
/// erring; the old tokens stay). Callers that joined another's refresh do not count.
public final class TokenRefresher: Sendable {
    private let store: SessionStore
    private let client: OAuthClient
    private let leeway: Duration
    private let logger: Logger
    private let inflight = Mutex<[SessionHash: Task<Session, any Error>]>([:])
    /// Sessions whose last refresh failed transiently: until when, and why.
    private let failures = Mutex<[SessionHash: (until: ContinuousClock.Instant, error: OAuthError)]>([:])
    /// How long a transient failure is remembered per session.
    public let retryAfterFailure: Duration
    /// Failures remembered at most (expired ones are dropped first, then all).
    static let failureLimit = 10_000

    /// - Parameters:
    ///   - leeway: how long before expiry a token is refreshed, at most half its lifetime
    ///     (``SessionTokens/refreshDue(leeway:now:)``). Default: 30 seconds.
    ///   - retryAfterFailure: how long after a transient failure a session's refresh fails at
    ///     once instead of asking the IdP again. Default: 15 seconds.
    public init(
        store: SessionStore, client: OAuthClient, leeway: Duration = .seconds(30),
        retryAfterFailure: Duration = .seconds(15), logger: Logger = Logger(label: "gatehouse.refresh")
    ) {
        self.store = store
        self.client = client
        self.leeway = leeway
        self.retryAfterFailure = retryAfterFailure
        self.logger = logger
    }

    /// Whether the session's access token is due for a refresh now.
    public func needsRefresh(_ session: Session) -> Bool {
        session.tokens.hasRefreshToken && session.tokens.refreshDue(leeway: leeway, now: store.clock.now)
    }

    /// The session with an access token not due for a refresh (refreshed if it was).
    ///
    /// Throws ``RefreshError/sessionEnded`` when the IdP refuses the refresh token (the session
    /// is deleted) and ``RefreshError/refreshFailed`` when the IdP could not be asked (the
    /// stored tokens are unchanged).
    public func freshSession(_ session: Session) async throws -> Session {
        guard needsRefresh(session) else { return session }
        if let failure = recentFailure(session.idHash) { throw RefreshError.refreshFailed(failure) }
        let task = inflight.withLock { tasks -> Task<Session, any Error> in
            if let existing = tasks[session.idHash] { return existing }
            // Unstructured on purpose: a caller that goes away must not cancel the refresh the
            // others are waiting for.
            let task = Task { try await self.refreshUnderLock(session) }
            tasks[session.idHash] = task
            return task
        }
        defer {
            inflight.withLock { tasks in
                if tasks[session.idHash] == task { tasks[session.idHash] = nil }
            }
        }
        do {
            let fresh = try await task.value
            _ = failures.withLock { $0.removeValue(forKey: session.idHash) }
            return fresh
        } catch RefreshError.refreshFailed(let error) {
            remember(error, for: session.idHash)
            throw RefreshError.refreshFailed(error)
        }
    }

    private func recentFailure(_ hash: SessionHash) -> OAuthError? {
        let now = ContinuousClock.now
        return failures.withLock { failures in
            guard let failure = failures[hash] else { return nil }
            guard failure.until > now else {
                failures[hash] = nil
                return nil
            }
            return failure.error
        }
    }

    private func remember(_ error: OAuthError, for hash: SessionHash) {
        let now = ContinuousClock.now
        failures.withLock { failures in
            if failures.count >= Self.failureLimit {
                failures = failures.filter { $0.value.until > now }
                if failures.count >= Self.failureLimit { failures.removeAll() }
            }
            failures[hash] = (now + retryAfterFailure, error)
        }
    }

    private func refreshUnderLock(_ snapshot: Session) async throws -> Session {
        try await store.driver.withSessionLock(snapshot.idHash) {
            // The refresh token is not cached: read the whole token set, under the lock.
            guard let stored = try await self.store.loadWithTokenSet(hash: snapshot.idHash) else {
                throw RefreshError.sessionEnded
            }
            let current = stored.session
            // Someone (another process) refreshed while we waited for the lock: use theirs.
            if current.version != snapshot.version { return current }
            let refreshed: TokenSet
            do throws(OAuthError) {
                refreshed = try await self.client.refresh(stored.tokenSet, subject: current.identity.subject)
            } catch where error.code == .invalidGrant {
                Self.count("refused")
                self.logger.info("refresh token refused; ending the session", metadata: ["session": "\(current.idHash)"])
                _ = try? await self.store.delete(current.idHash)
                throw RefreshError.sessionEnded
            } catch {
                Self.count("failed")
                self.logger.warning(
                    "token refresh failed; keeping the current tokens",
                    metadata: ["session": "\(current.idHash)", "error": "\(error.code)"])
                throw RefreshError.refreshFailed(error)
            }
            Self.count("succeeded")
            guard let saved = try await self.store.updateTokens(current, to: refreshed) else {
                // Only possible when a driver without a cross-process lock is shared: reread.
                if let latest = try await self.store.load(hash: snapshot.idHash, bypassCache: true) { return latest }
                throw RefreshError.sessionEnded
            }
            return saved
        }
    }
}

extension TokenRefresher {
    private static func count(_ result: String) {
        Counter(label: "gatehouse_token_refreshes_total", dimensions: [("result", result)]).increment()
    }
}

/// Why ``TokenRefresher/freshSession(_:)`` could not return fresh tokens.
public enum RefreshError: Error, Sendable, CustomStringConvertible {
    /// The IdP refused the refresh token (or the session is gone): sign in again.
    case sessionEnded
    /// The IdP could not refresh now (down, timeout, server error); the old tokens stay.
    case refreshFailed(OAuthError)

    public var description: String {
        switch self {
        case .sessionEnded: "session_ended: the identity provider no longer accepts this session's refresh token"
        case .refreshFailed(let error): "refresh_failed: \(error)"
        }
    }
}
