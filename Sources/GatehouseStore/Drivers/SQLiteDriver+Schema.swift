import Foundation
import GRDB

extension SQLiteDriver {
    /// The schema, one registered migration per version; GRDB records which ran in
    /// `grdb_migrations`. Never edit a released migration: add the next one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sessions and pending authorizations") { db in
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
        return migrator
    }
}
