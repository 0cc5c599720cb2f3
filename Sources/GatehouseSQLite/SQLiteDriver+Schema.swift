import GatehouseStore
import Foundation
import GRDB

extension SQLiteDriver {
    /// The first schema: claims in clear beside the sealed token set.
    static let firstMigration = "v1: sessions and pending authorizations"
    /// The identity sealed with the tokens; clear columns for lookups only.
    static let sealedIdentityMigration = "v2: identity sealed with the tokens"
    /// The provider column holds the provider's configured id, no longer its preset name.
    static let providerIDMigration = "v3: provider ids"

    /// The schema, one registered migration per version; GRDB records which ran in
    /// `grdb_migrations`. Never edit a released migration: add the next one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(Self.firstMigration) { db in
            try db.execute(
                sql: """
                    CREATE TABLE sessions (
                        id_hash BLOB PRIMARY KEY NOT NULL CHECK (length(id_hash) = 32),
                        subject TEXT NOT NULL,
                        idp_session_id TEXT,
                        provider TEXT NOT NULL,
                        claims BLOB NOT NULL,
                        sealed_tokens BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL,
                        idle_expires_at INTEGER NOT NULL,
                        absolute_expires_at INTEGER NOT NULL,
                        version INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX sessions_subject ON sessions (subject);
                    CREATE INDEX sessions_idp_session_id ON sessions (idp_session_id)
                        WHERE idp_session_id IS NOT NULL;
                    CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);
                    CREATE INDEX sessions_absolute_expires_at ON sessions (absolute_expires_at);
                    CREATE INDEX sessions_created_at ON sessions (created_at);

                    CREATE TABLE pending_authorizations (
                        state_hash BLOB PRIMARY KEY NOT NULL CHECK (length(state_hash) = 32),
                        binding_hash BLOB NOT NULL,
                        nonce TEXT NOT NULL,
                        sealed_verifier BLOB NOT NULL,
                        return_path TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX pending_authorizations_expires_at ON pending_authorizations (expires_at);
                    """)
        }
        migrator.registerMigration(Self.sealedIdentityMigration) { db in
            // The identity moves into the sealed column (SessionPayload). Existing rows keep
            // their clear claims as legacy_claims until their first read or `keys reencrypt`
            // verifies and re-seals them (LegacyClaims). SQLite cannot drop NOT NULL in place:
            // the table is rebuilt.
            try db.execute(
                sql: """
                    CREATE TABLE sessions_v2 (
                        id_hash BLOB PRIMARY KEY NOT NULL CHECK (length(id_hash) = 32),
                        subject TEXT NOT NULL,
                        idp_session_id TEXT,
                        provider TEXT NOT NULL,
                        sealed_session BLOB NOT NULL,
                        legacy_claims BLOB,
                        created_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL,
                        idle_expires_at INTEGER NOT NULL,
                        absolute_expires_at INTEGER NOT NULL,
                        version INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO sessions_v2 (id_hash, subject, idp_session_id, provider, sealed_session, legacy_claims,
                        created_at, last_seen_at, idle_expires_at, absolute_expires_at, version)
                    SELECT id_hash, subject, idp_session_id, provider, sealed_tokens, claims,
                        created_at, last_seen_at, idle_expires_at, absolute_expires_at, version
                    FROM sessions;
                    DROP TABLE sessions;
                    ALTER TABLE sessions_v2 RENAME TO sessions;
                    CREATE INDEX sessions_subject ON sessions (subject);
                    CREATE INDEX sessions_idp_session_id ON sessions (idp_session_id)
                        WHERE idp_session_id IS NOT NULL;
                    CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);
                    CREATE INDEX sessions_absolute_expires_at ON sessions (absolute_expires_at);
                    CREATE INDEX sessions_created_at ON sessions (created_at);
                    """)
        }
        migrator.registerMigration(Self.providerIDMigration) { db in
            // Every session and login so far came from the one provider of the environment,
            // whose id is `default` (sealed sessions of format 1 read as that: SessionPayload).
            try db.execute(
                sql: """
                    UPDATE sessions SET provider = 'default';
                    UPDATE pending_authorizations SET provider = 'default';
                    """)
        }
        return migrator
    }
}
