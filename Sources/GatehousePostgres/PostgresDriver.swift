public import GatehouseStore
public import Logging
import PostgresNIO

/// Sessions and pending authorizations in PostgreSQL, shared by any number of gateway
/// processes, over a pooled `PostgresClient` (postgres-nio).
///
/// The client only works while ``run()`` is running (in a `ServiceGroup`, or use the scoped
/// ``withDriver(url:logger:options:_:)``). Every operation has a deadline
/// (``Options/queryTimeout``): with the server away postgres-nio would otherwise wait for a
/// connection forever.
public final class PostgresDriver: StorageDriver {
    /// Tuning; the defaults suit a gateway.
    public struct Options: Sendable {
        /// Deadline for one operation: leasing a pooled connection and running its statements.
        /// Past it the operation throws ``StoreError/timeout``. Default 5 s.
        public var queryTimeout: Duration = .seconds(5)

        /// How long ``PostgresDriver/withSessionLock(_:_:)`` waits for another holder to let go
        /// before throwing ``StoreError/timeout``. Default 5 s.
        public var lockTimeout: Duration = .seconds(5)

        /// Deadline for ``PostgresDriver/migrate()``, which may wait for another process's
        /// migration. Default 60 s.
        public var migrationTimeout: Duration = .seconds(60)

        /// Deadline for one TCP connection attempt. Default 5 s.
        public var connectTimeout: Duration = .seconds(5)

        /// Pool size. Each ``PostgresDriver/withSessionLock(_:_:)`` in progress holds one
        /// connection for its whole body. Default 20.
        public var maximumConnections: Int = 20

        /// Whether to send ``queryTimeout`` to the server as `statement_timeout` when connecting,
        /// so a stuck statement also ends on the server's side. Turn off behind a pooler that
        /// refuses unknown startup parameters (PgBouncer). Default `true`.
        public var sendsStatementTimeout: Bool = true

        /// The schema holding Gatehouse's tables, created by ``PostgresDriver/migrate()`` when
        /// missing (sent as `search_path`). Lower-case letters, digits and `_`, starting with a
        /// letter or `_`. Default `nil`: the user's default `search_path` (usually `public`).
        public var schema: String? = nil

        public init() {}
    }

    let client: PostgresClient
    let options: Options
    let logger: Logger

    /// A driver for `url`: `postgres://USER:PASSWORD@HOST[:PORT]/DATABASE[?sslmode=disable|require]`
    /// (`postgresql://` too; percent-encode special characters). TLS is required (with
    /// certificate verification) unless the host is loopback or `sslmode=disable` says otherwise.
    /// Throws ``StoreError/invalidConfiguration`` naming the problem (never the password).
    /// Nothing connects until ``run()`` runs.
    public init(url: String, logger: Logger, options: Options = Options()) throws {
        let parsed = try PostgresURL(url)
        if let schema = options.schema, !PostgresURL.isPlainIdentifier(schema) {
            throw StoreError.postgresConfiguration("schema must be lower-case letters, digits and _")
        }
        if parsed.tls == .disable, !PostgresURL.isLoopback(parsed.host) {
            logger.warning("PostgreSQL connection without TLS to a non-loopback host (sslmode=disable)")
        }
        self.options = options
        self.logger = logger
        self.client = PostgresClient(
            configuration: parsed.clientConfiguration(options: options), backgroundLogger: logger)
    }

    /// Runs the connection pool until the calling task is cancelled (or, in a `ServiceGroup`,
    /// until graceful shutdown). Call it exactly once.
    public func run() async {
        await client.run()
    }

    /// Runs `body` with a migrated driver whose pool runs for exactly that long.
    public static func withDriver<T: Sendable>(
        url: String, logger: Logger, options: Options = Options(), _ body: (PostgresDriver) async throws -> T
    ) async throws -> T {
        let driver = try PostgresDriver(url: url, logger: logger, options: options)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await driver.run() }
            defer { group.cancelAll() }
            try await driver.migrate()
            return try await body(driver)
        }
    }
}
