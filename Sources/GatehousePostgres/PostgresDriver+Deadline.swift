import GatehouseStore
import PostgresNIO
import Synchronization

extension PostgresDriver {
    /// Leases a pooled connection and runs `work` with it, all before `timeout` (default
    /// ``Options/queryTimeout``) has passed.
    ///
    /// Waiting for a lease is cancelled at the deadline (postgres-nio waits forever when the
    /// server is away); a statement still running then has its connection closed, which fails
    /// it. Errors come back as ``StoreError`` (`.timeout` past the deadline).
    func withConnection<T: Sendable>(
        _ operation: String, timeout: Duration? = nil, _ work: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now.advanced(by: timeout ?? options.queryTimeout)
        return try await withLease(operation, leaseDeadline: deadline) { connection in
            try await Self.bounded(connection, until: deadline, operation) { try await work(connection) }
        }
    }

    /// How long after its deadline a statement's connection is closed by the client.
    static let clientGrace: Duration = .milliseconds(250)

    /// Runs `query` and collects its rows, within ``Options/queryTimeout``.
    @discardableResult
    func rows(_ operation: String, _ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await withConnection(operation) { connection in
            try await connection.complete(query, logger: logger)
        }
    }

    /// Leases a connection before `leaseDeadline` and runs `work` with it. `work` bounds its own
    /// statements (see ``bounded(_:until:_:_:)``); the lease is released when it returns.
    func withLease<T: Sendable>(
        _ operation: String, leaseDeadline: ContinuousClock.Instant,
        _ work: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let lease = LeaseState()
        let client = self.client
        do {
            return try await withThrowingTaskGroup(of: LeaseOutcome<T>.self, returning: T.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        guard lease.markLeased() else { throw StoreError.postgresTimeout(operation) }
                        return .finished(try await work(connection))
                    }
                }
                group.addTask {
                    try? await Task.sleep(until: leaseDeadline, clock: .continuous)
                    return .timerFired
                }
                while let outcome = try await group.next() {
                    switch outcome {
                    case .finished(let value):
                        group.cancelAll()
                        return value
                    case .timerFired:
                        // Still queued for a connection: give up (cancels the lease request).
                        if lease.expireIfWaiting() { group.cancelAll() }
                    }
                }
                throw StoreError.postgresTimeout(operation)
            }
        } catch {
            if let passThrough = error as? PassThrough { throw passThrough.error }
            if lease.expired, !(error is StoreError), !Task.isCancelled {
                throw StoreError.postgresTimeout(operation)
            }
            throw StoreError.translatingPostgres(error, operation: operation)
        }
    }

    /// Runs `work` (statements on `connection`) and closes the connection if it is still
    /// running shortly after `deadline` (``clientGrace``, so the server's own
    /// `statement_timeout` normally ends it first and the connection survives): that fails
    /// the statement at once, where postgres-nio would otherwise wait on a silent server.
    /// Closing also ends any session lock it held.
    static func bounded<T>(
        _ connection: PostgresConnection, until deadline: ContinuousClock.Instant, _ operation: String,
        _ work: () async throws -> T
    ) async throws -> T {
        let fired = Flag()
        let remaining = ContinuousClock.now.duration(to: deadline) + clientGrace
        let scheduled = connection.eventLoop.scheduleTask(in: remaining.timeAmount) {
            fired.set()
            let _: EventLoopFuture<Void> = connection.close()
        }
        defer { scheduled.cancel() }
        do {
            return try await work()
        } catch {
            if fired.isSet {
                // Let the pool see the close before the lease goes back, so it is not reused.
                try? await connection.closeFuture.get()
                throw StoreError.postgresTimeout(operation)
            }
            throw error
        }
    }
}

extension PostgresConnection {
    /// Runs `query` to completion and returns its rows. postgres-nio's `query` returns as soon
    /// as the row description arrives, before the statement has finished (a blocking
    /// `pg_advisory_lock` would still be waiting); draining the rows waits for the end and
    /// surfaces the statement's error.
    @discardableResult
    func complete(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}

/// An error from caller code run inside ``PostgresDriver/withLease(_:leaseDeadline:_:)``
/// (the body of a session lock): handed back untouched, never translated.
struct PassThrough: Error {
    var error: any Error
}

/// What the first of the lease task and the deadline timer reports.
enum LeaseOutcome<T: Sendable>: Sendable {
    case finished(T)
    case timerFired
}

/// Whether a lease arrived before its deadline: exactly one of the two wins.
final class LeaseState: Sendable {
    private enum State { case waiting, leased, expired }
    private let state = Mutex(State.waiting)

    /// The lease arrived; `false` when the deadline already passed (do not use it).
    func markLeased() -> Bool {
        state.withLock { state in
            guard state == .waiting else { return false }
            state = .leased
            return true
        }
    }

    /// The deadline passed; `true` when no lease had arrived yet.
    func expireIfWaiting() -> Bool {
        state.withLock { state in
            guard state == .waiting else { return false }
            state = .expired
            return true
        }
    }

    var expired: Bool { state.withLock { $0 == .expired } }
}

/// A flag set once, from any thread.
final class Flag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }

    var isSet: Bool { value.withLock { $0 } }
}
