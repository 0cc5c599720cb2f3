import GatehouseStore
import PostgresNIO

extension PostgresDriver {
    /// One schema step. Steps are never edited once released: changes are new steps.
    struct Migration: Sendable {
        var version: Int32
        var description: String
        /// Run in order, in one transaction (extended protocol: one statement each).
        var statements: [String]
    }

    /// Every schema step, oldest first.
    static let migrations: [Migration] = [
        Migration(
            version: 1, description: "sessions and pending authorizations",
            statements: [
                """
                CREATE TABLE gatehouse_sessions (
                    id_hash bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
                    subject text NOT NULL,
                    idp_session_id text,
                    provider text NOT NULL,
                    claims bytea NOT NULL,
                    sealed_tokens bytea NOT NULL,
                    created_at bigint NOT NULL,
                    last_seen_at bigint NOT NULL,
                    idle_expires_at bigint NOT NULL,
                    absolute_expires_at bigint NOT NULL,
                    version bigint NOT NULL
                )
                """,
                "CREATE INDEX gatehouse_sessions_subject_idx ON gatehouse_sessions (subject)",
                """
                CREATE INDEX gatehouse_sessions_idp_session_id_idx ON gatehouse_sessions (idp_session_id)
                WHERE idp_session_id IS NOT NULL
                """,
                "CREATE INDEX gatehouse_sessions_idle_expires_at_idx ON gatehouse_sessions (idle_expires_at)",
                "CREATE INDEX gatehouse_sessions_absolute_expires_at_idx ON gatehouse_sessions (absolute_expires_at)",
                "CREATE INDEX gatehouse_sessions_created_at_idx ON gatehouse_sessions (created_at)",
                """
                CREATE TABLE gatehouse_pending (
                    state_hash bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
                    binding_hash bytea NOT NULL,
                    nonce text NOT NULL,
                    sealed_verifier bytea NOT NULL,
                    return_path text NOT NULL,
                    provider text NOT NULL,
                    created_at bigint NOT NULL,
                    expires_at bigint NOT NULL
                )
                """,
                "CREATE INDEX gatehouse_pending_expires_at_idx ON gatehouse_pending (expires_at)",
            ]),
        Migration(
            version: 2, description: "notify deletions of live sessions",
            statements: [
                // One notice per deleted session that had not expired yet (expired ones are
                // refused by every cache anyway, so purges stay quiet); one "*" for large
                // deletions. The channel is per schema.
                """
                CREATE FUNCTION gatehouse_sessions_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    channel text := 'gatehouse_deleted_' || TG_TABLE_SCHEMA;
                    now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
                    live bigint;
                BEGIN
                    SELECT count(*) INTO live FROM deleted_rows
                    WHERE idle_expires_at > now_ms AND absolute_expires_at > now_ms;
                    IF live > 100 THEN
                        PERFORM pg_notify(channel, '*');
                    ELSIF live > 0 THEN
                        PERFORM pg_notify(channel, encode(id_hash, 'hex')) FROM deleted_rows
                        WHERE idle_expires_at > now_ms AND absolute_expires_at > now_ms;
                    END IF;
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE TRIGGER gatehouse_sessions_deleted AFTER DELETE ON gatehouse_sessions
                REFERENCING OLD TABLE AS deleted_rows
                FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_sessions_deleted()
                """,
            ]),
        Migration(
            version: 3, description: "identity sealed with the tokens",
            statements: [
                // The identity moves into the sealed column (SessionPayload). Existing rows keep
                // their clear claims as legacy_claims until their first read or `keys reencrypt`
                // verifies and re-seals them (LegacyClaims).
                "ALTER TABLE gatehouse_sessions RENAME COLUMN sealed_tokens TO sealed_session",
                "ALTER TABLE gatehouse_sessions RENAME COLUMN claims TO legacy_claims",
                "ALTER TABLE gatehouse_sessions ALTER COLUMN legacy_claims DROP NOT NULL",
            ]),
        Migration(
            version: 4, description: "provider ids",
            statements: [
                // Every session and login so far came from the one provider of the environment,
                // whose id is `default` (sealed sessions of format 1 read as that: SessionPayload).
                "UPDATE gatehouse_sessions SET provider = 'default'",
                "UPDATE gatehouse_pending SET provider = 'default'",
            ]),
    ]

    /// The two-key advisory lock serialising migrations across processes. The two-key form
    /// never collides with the one-key session locks of ``withSessionLock(_:_:)``.
    static let migrationLockKey: (Int32, Int32) = (0x6761_7465, 1)  // "gate", schema

    /// Creates or upgrades the schema. Runs in one transaction under
    /// `pg_advisory_xact_lock`, so gateways starting together apply each step exactly once;
    /// a database already newer than this code is left alone.
    public func migrate() async throws {
        try await migrate(upTo: Int32.max)
    }

    /// ``migrate()`` stopping after step `last` (tests build older schemas with it).
    func migrate(upTo last: Int32) async throws {
        let logger = self.logger
        let timeout = options.migrationTimeout
        let schema = options.schema
        let applied = try await withConnection("migrate", timeout: timeout) { connection in
            try await connection.withTransaction(logger: logger) { connection -> [Int32] in
                try await connection.complete(
                    "SELECT set_config('statement_timeout', \(String(timeout.milliseconds)), true)", logger: logger)
                try await connection.complete(
                    "SELECT pg_advisory_xact_lock(\(Self.migrationLockKey.0), \(Self.migrationLockKey.1))",
                    logger: logger)
                if let schema {  // checked by init: a plain identifier
                    try await connection.complete("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: logger)
                }
                try await connection.complete(
                    """
                    CREATE TABLE IF NOT EXISTS gatehouse_schema_migrations (
                        version integer PRIMARY KEY,
                        description text NOT NULL,
                        applied_at bigint NOT NULL
                    )
                    """, logger: logger)
                var current: Int32 = 0
                let rows = try await connection.complete(
                    "SELECT coalesce(max(version), 0) FROM gatehouse_schema_migrations", logger: logger)
                for row in rows { current = try row.decode(Int32.self) }
                var applied: [Int32] = []
                for migration in Self.migrations where migration.version > current && migration.version <= last {
                    for statement in migration.statements {
                        try await connection.complete(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.complete(
                        """
                        INSERT INTO gatehouse_schema_migrations (version, description, applied_at)
                        VALUES (\(migration.version), \(migration.description),
                                (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                        """, logger: logger)
                    applied.append(migration.version)
                }
                return applied
            }
        }
        if !applied.isEmpty {
            logger.info("PostgreSQL schema migrated", metadata: ["versions": "\(applied)"])
        }
    }
}
