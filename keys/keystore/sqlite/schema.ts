import type Database from 'better-sqlite3';
import { KeystoreError, causeName } from '../errors.js';

/**
 * Schema migrations, in order; migration i brings the schema from version i to i+1. Append new ones, never
 * edit old ones: a store written by an older build is migrated forward in one transaction per step.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE keys (
    name TEXT PRIMARY KEY,
    created INTEGER NOT NULL,
    deleted_at INTEGER,
    recoverable_days INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE key_versions (
    name TEXT NOT NULL REFERENCES keys(name) ON DELETE CASCADE,
    version TEXT NOT NULL,
    ord INTEGER NOT NULL,
    kty TEXT NOT NULL,
    key_size INTEGER NOT NULL,
    key_ops TEXT NOT NULL,
    public_n TEXT,
    public_e TEXT,
    enabled INTEGER NOT NULL,
    exportable INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    policy_content_type TEXT,
    policy_data TEXT,
    policy_immutable INTEGER,
    kek_id TEXT NOT NULL,
    wrapped_dek BLOB NOT NULL,
    iv BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    tag BLOB NOT NULL,
    mac BLOB NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (name, version),
    UNIQUE (name, ord)
  ) STRICT;
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_name TEXT,
    subject_version TEXT,
    actor TEXT NOT NULL,
    details TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_by_subject ON audit_log (subject_name, time);
  CREATE INDEX audit_by_time ON audit_log (time);
  CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    time TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
  ) STRICT;
  CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_checkpoints_append_only_u BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
  CREATE TRIGGER audit_checkpoints_append_only_d BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Durability settings: WAL with synchronous=FULL makes every commit durable before it is acknowledged (also
 * across power loss, not only process death); secure_delete overwrites purged key rows' pages.
 */
export function applyPragmas(db: Database.Database, readonly: boolean): void {
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  if (readonly) return;
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (String(mode).toLowerCase() !== 'wal') throw new KeystoreError('ERR_STORE_OPEN', `the store cannot use write-ahead logging (journal_mode is ${String(mode)})`);
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
}

function currentVersion(db: Database.Database): number {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!table) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/** Brings the schema to SCHEMA_VERSION; refuses a store written by a newer build. Read-only opens only check. */
export function migrate(db: Database.Database, readonly: boolean): void {
  const from = currentVersion(db);
  if (from > SCHEMA_VERSION) throw new KeystoreError('ERR_STORE_SCHEMA', `the store has schema version ${from}, newer than this build's ${SCHEMA_VERSION}: upgrade zt4ai`);
  if (from === SCHEMA_VERSION) return;
  if (readonly) throw new KeystoreError('ERR_STORE_SCHEMA', `the store has schema version ${from} and needs migrating to ${SCHEMA_VERSION}; open it read-write once`);
  for (let v = from; v < SCHEMA_VERSION; v++) {
    try {
      db.transaction(() => {
        // Another process may have migrated between our check and this write lock.
        if (currentVersion(db) !== v) return;
        db.exec(MIGRATIONS[v]!);
        db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
        db.exec('DELETE FROM schema_version');
        db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
      }).immediate();
    } catch (cause) {
      throw new KeystoreError('ERR_STORE_SCHEMA', `migrating the store to schema version ${v + 1} failed: ${causeName(cause)}`, { cause });
    }
  }
}
