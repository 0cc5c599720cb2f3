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
/// Each grant sent to the IdP counts in `gatehouse_token_refreshes_total{result}` (swift-metrics):
/// `succeeded`, `refused` (`invalid_grant`, the session ended) or `failed` (IdP unreachable or
/// erring; the old tokens stay). Callers that joined another's refresh do not count.
public final class TokenRefresher: Sendable {
    private let store: SessionStore
    private let client: OAuthClient
    private let leeway: Duration
    private let logger: Logger
    private let inflight = Mutex<[SessionHash: Task<Session, any Error>]>([:])

    /// - Parameter leeway: how long before expiry a token is refreshed. Default: 30 seconds.
    public init(store: SessionStore, client: OAuthClient, leeway: Duration = .seconds(30), logger: Logger = Logger(label: "gatehouse.refresh")) {
        self.store = store
        self.client = client
        self.leeway = leeway
        self.logger = logger
    }

    /// Whether the session's access token is due for a refresh now.
    public func needsRefresh(_ session: Session) -> Bool {
        session.tokens.hasRefreshToken && session.tokens.expires(within: leeway, now: store.clock.now)
    }

    /// The session with an access token valid for at least `leeway` (refreshed if needed).
    ///
    /// Throws ``RefreshError/sessionEnded`` when the IdP refuses the refresh token (the session
    /// is deleted) and ``RefreshError/refreshFailed`` when the IdP could not be asked (the
    /// stored tokens are unchanged).
    public func freshSession(_ session: Session) async throws -> Session {
        guard needsRefresh(session) else { return session }
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
        return try await task.value
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
