public import GatehouseStore
import PostgresNIO

extension PostgresDriver {
    /// Holds the session-level advisory lock `pg_advisory_lock(key)` (key: the first 8 bytes of
    /// `idHash`) on one pooled connection while `body` runs, so gateways sharing the database
    /// refresh a session's tokens one at a time.
    ///
    /// Waiting is bounded by ``Options/lockTimeout`` (server `lock_timeout`, plus a client
    /// deadline) and ends in ``StoreError/timeout``; leasing the connection by
    /// ``Options/queryTimeout``. `body` itself has no deadline. The lock is released when `body`
    /// returns or throws (cancellation included; what `body` throws comes back unchanged); if the unlock cannot be confirmed the
    /// connection is closed, which releases it on the server.
    public func withSessionLock<T: Sendable>(
        _ idHash: SessionHash, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let key = Self.lockKey(idHash)
        let logger = self.logger
        let options = self.options
        let leaseDeadline = ContinuousClock.now.advanced(by: options.queryTimeout)
        return try await withoutActuallyEscaping(body) { body in
            try await withLease("withSessionLock", leaseDeadline: leaseDeadline) { connection in
                do {
                    try await Self.lock(connection, key: key, options: options, logger: logger)
                } catch let error as PostgresTransactionError where error.closureError == nil {
                    // BEGIN or COMMIT failed: the lock may be held all the same. Drop the session.
                    let _: EventLoopFuture<Void> = connection.close()
                    throw error
                }
                let result: T
                do {
                    result = try await body()
                } catch {
                    await Self.unlock(connection, key: key, options: options, logger: logger)
                    throw PassThrough(error: error)
                }
                await Self.unlock(connection, key: key, options: options, logger: logger)
                return result
            }
        }
    }

    /// The advisory lock key of a session: its hash's first 8 bytes, big-endian.
    static func lockKey(_ idHash: SessionHash) -> Int64 {
        Int64(bitPattern: idHash.bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// Takes the lock. The timeouts are set with `set_config(…, true)` inside a transaction,
    /// so they end with it; the session-level lock outlives the commit.
    private static func lock(
        _ connection: PostgresConnection, key: Int64, options: Options, logger: Logger
    ) async throws {
        let waitLimit = String(options.lockTimeout.milliseconds)
        let statementLimit = String((options.lockTimeout + options.queryTimeout).milliseconds)
        let deadline = ContinuousClock.now.advanced(by: options.lockTimeout + options.queryTimeout)
        try await bounded(connection, until: deadline, "withSessionLock") {
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.complete(
                    """
                    SELECT set_config('lock_timeout', \(waitLimit), true),
                           set_config('statement_timeout', \(statementLimit), true)
                    """, logger: logger)
                try await connection.complete("SELECT pg_advisory_lock(\(key))", logger: logger)
            }
        }
    }

    /// Releases the lock; closes the connection when that cannot be confirmed (an advisory
    /// lock ends with its session), so the lock is never left behind on a pooled connection.
    private static func unlock(
        _ connection: PostgresConnection, key: Int64, options: Options, logger: Logger
    ) async {
        let deadline = ContinuousClock.now.advanced(by: options.queryTimeout)
        let released: Bool
        do {
            released = try await bounded(connection, until: deadline, "unlock") {
                let rows = try await connection.complete("SELECT pg_advisory_unlock(\(key))", logger: logger)
                return try rows.first?.decode(Bool.self) ?? false
            }
        } catch {
            released = false
        }
        if !released {
            logger.warning("PostgreSQL advisory unlock not confirmed; closing the connection")
            let _: EventLoopFuture<Void> = connection.close()
        }
    }
}
