import Foundation
public import GatehouseOAuth
public import Logging

/// Sessions and pending authorizations, encrypted, over any ``StorageDriver``.
///
/// Secrets (tokens, PKCE verifiers) and everything that decides identity (the claims, the
/// provider, the absolute deadline) are sealed with the ``KeyRing`` before they reach the
/// driver, bound to the record's id hash; the row keeps clear copies only for lookups, and a
/// row whose copies differ from the sealed values is refused (``SessionPayload``). A session
/// that cannot be opened or verified (key missing, tampered, an unverifiable row from before
/// schema 2) counts as no session for the request, is logged (never a value) and is *not*
/// deleted, so an operator who restores the key gets the session back.
///
/// A bounded read cache sits in front of the driver. A revocation through this instance takes
/// effect at once; one made through another instance sharing the driver takes effect here
/// within ``Configuration/cacheTTL`` (default 5 seconds).
public final class SessionStore: Sendable {
    /// Where the rows live.
    public let driver: any StorageDriver
    /// The source of "now" for every deadline.
    public let clock: WallClock
    /// The keys that seal and open secrets.
    public let keyRing: KeyRing
    public let configuration: Configuration
    let logger: Logger
    let cache: SessionCache

    /// A store over `driver`. Call `driver.migrate()` once before the first use.
    public init(
        driver: any StorageDriver,
        keyRing: KeyRing,
        configuration: Configuration = .init(),
        clock: WallClock = .system,
        logger: Logger = Logger(label: "gatehouse.store")
    ) {
        self.driver = driver
        self.keyRing = keyRing
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.cache = SessionCache(capacity: configuration.cacheCapacity, ttl: configuration.cacheTTL)
    }

    /// Creates a session with a new random id (a login never reuses an id: no fixation).
    ///
    /// The absolute deadline is login time plus ``Configuration/maxAge``, or the refresh
    /// token's expiry when the token response states one (`refresh_expires_in`,
    /// `refresh_token_expires_in`) and it comes first.
    ///
    /// - Returns: The id for the cookie, and the stored session.
    public func create(identity: Identity, provider: String, tokens: TokenSet) async throws -> (SessionID, Session) {
        let id = SessionID.generate()
        let hash = id.hash
        let now = clock.now
        let nowMS = now.storeMilliseconds
        var absolute = nowMS + configuration.maxAge.storeMilliseconds
        if let refreshDeadline = Self.refreshDeadline(of: tokens, now: nowMS) {
            absolute = min(absolute, refreshDeadline)
        }
        let payload = SessionPayload(identity: identity, provider: provider, createdAt: nowMS, absoluteExpiresAt: absolute)
        let row = SessionRow(
            idHash: hash, subject: identity.subject, idpSessionID: identity.sessionID, provider: provider,
            sealed: try seal(payload, tokens: tokens, for: hash), createdAt: nowMS, lastSeenAt: nowMS,
            idleExpiresAt: min(nowMS + configuration.idleTimeout.storeMilliseconds, absolute),
            absoluteExpiresAt: absolute, version: 1)
        try await driver.insertSession(row)
        let session = Self.session(from: row, payload: payload, tokens: SessionTokens(tokens))
        cache.put(session, readAt: now)
        return (id, session)
    }

    /// The session for a cookie's id, or `nil` when there is none, it has expired (it is then
    /// deleted), or it cannot be decrypted or verified (logged; the row is kept). Slides the
    /// idle deadline, writing at most once per ``Configuration/touchInterval``.
    public func load(_ id: SessionID) async throws -> Session? {
        try await load(hash: id.hash)
    }

    /// The session stored under `hash`; see ``load(_:)``. `bypassCache` reads the driver even
    /// when a fresh cached copy exists (before a compare-and-swap retry, say).
    public func load(hash: SessionHash, bypassCache: Bool = false) async throws -> Session? {
        let now = clock.now
        if !bypassCache, let cached = cache.get(hash, now: now), !cached.isExpired(at: now) {
            return await touchIfDue(cached, now: now)
        }
        // Not cached, stale, or expired by the cached copy: ask the driver (another instance
        // may have slid the idle deadline since the copy was read).
        let ticket = cache.readTicket()
        guard let row = try await liveRow(hash, now: now) else { return nil }
        let session: Session
        do {
            session = try await readSession(row)
        } catch {
            logUnreadable(row, error)
            return nil
        }
        // The sealed absolute deadline decides (a row from before schema 2 may get an earlier
        // one than its column said).
        guard !session.isExpired(at: now) else { return nil }
        cache.put(session, readAt: now, ticket: ticket)
        return await touchIfDue(session, now: now)
    }

    /// The session under `hash` when this process's cache holds a fresh, unexpired copy whose
    /// last-seen time needs no write yet: the synchronous check of a proxy's hot path. `nil`
    /// means "call ``load(hash:bypassCache:)``", not "no session".
    public func settledSession(hash: SessionHash) -> Session? {
        let now = clock.now
        guard let cached = cache.get(hash, now: now), !cached.isExpired(at: now),
            cached.lastSeenAt > now.addingTimeInterval(-configuration.touchInterval.timeInterval)
        else { return nil }
        return cached
    }

    /// The session stored under `hash` with its complete token set, refresh and ID tokens
    /// included, read from the driver (never from the cache, which does not hold those two).
    /// For refreshing and for anything else that needs more than the access token. `nil` in
    /// the same cases as ``load(_:)``; it slides the idle deadline in the same way.
    public func loadWithTokenSet(hash: SessionHash) async throws -> SessionWithTokenSet? {
        let now = clock.now
        let ticket = cache.readTicket()
        guard let row = try await liveRow(hash, now: now) else { return nil }
        var loaded: SessionWithTokenSet
        do {
            loaded = try await readSessionWithTokenSet(row)
        } catch {
            logUnreadable(row, error)
            return nil
        }
        guard !loaded.session.isExpired(at: now) else { return nil }
        cache.put(loaded.session, readAt: now, ticket: ticket)
        loaded.session = await touchIfDue(loaded.session, now: now)
        return loaded
    }

    /// The row under `hash` when it exists and has not expired; an expired row is deleted.
    private func liveRow(_ hash: SessionHash, now: Date) async throws -> SessionRow? {
        guard let row = try await driver.session(hash) else {
            cache.remove(hash)
            return nil
        }
        if row.isExpired(at: now.storeMilliseconds) {
            cache.invalidate(hash)
            do {
                _ = try await driver.deleteSession(hash)
            } catch {
                logger.warning(
                    "could not delete an expired session",
                    metadata: ["session": "\(hash.shortDescription)", "error": "\(Self.logCode(error))"])
            }
            return nil
        }
        return row
    }

    /// Logs a row that cannot be opened or verified (what failed, never a value) and drops any
    /// cached copy; the row is kept for the operator.
    private func logUnreadable(_ row: SessionRow, _ error: any Error) {
        logger.error(
            "session refused: it cannot be opened or verified; treated as no session and kept for the operator",
            metadata: [
                "session": "\(row.idHash.shortDescription)", "error": "\(Self.logCode(error))",
                "reason": "\((error as? StoreError)?.detail ?? "-")",
                "key_id": "\(KeyRing.keyID(ofSealed: row.sealed) ?? "none")",
            ])
        cache.remove(row.idHash)
    }

    /// Writes the last-seen time and slides the idle deadline when the last write is at least
    /// ``Configuration/touchInterval`` old. A failed write is logged, not thrown: the request
    /// goes on with the session it has.
    private func touchIfDue(_ session: Session, now: Date) async -> Session {
        let threshold = now.addingTimeInterval(-configuration.touchInterval.timeInterval)
        guard session.lastSeenAt <= threshold else { return session }
        let nowMS = now.storeMilliseconds
        let idle = min(nowMS + configuration.idleTimeout.storeMilliseconds, session.absoluteExpiresAt.storeMilliseconds)
        var touched = session
        touched.lastSeenAt = Date(storeMilliseconds: nowMS)
        touched.idleExpiresAt = Date(storeMilliseconds: idle)
        guard
            cache.claimTouch(
                session.idHash, lastSeenAt: touched.lastSeenAt, idleExpiresAt: touched.idleExpiresAt,
                threshold: threshold)
        else { return touched }
        do {
            try await driver.touchSession(session.idHash, lastSeenAt: nowMS, idleExpiresAt: idle)
        } catch {
            logger.warning(
                "could not record session activity",
                metadata: ["session": "\(session.idHash.shortDescription)", "error": "\(Self.logCode(error))"])
        }
        return touched
    }
}
