import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CheckpointSigner } from '../../audit/checkpoint.js';
import { KeystoreError, causeName } from '../errors.js';
import type { KeyAndAuditStore } from '../storage.js';
import { applyPragmas, migrate } from './schema.js';
import { SqliteAudit } from './sqlite-audit.js';
import { SqliteKeys } from './sqlite-keys.js';

export const STORE_FILE = 'keystore.db';

export interface SqliteStoreOptions {
  /** Sign a checkpoint every `every` audit entries (default 100) with `signer`. Without it, no checkpoints. */
  readonly checkpoints?: { readonly signer: CheckpointSigner; readonly every?: number };
  /** Open for reading only (`zt4ai audit verify` on a copy): no migration, no writes. */
  readonly readonly?: boolean;
}

/** The embedded store: keys and audit log in one SQLite file, so a key change and its record commit together. */
export interface SqliteStore extends KeyAndAuditStore {
  readonly keys: SqliteKeys;
  readonly audit: SqliteAudit;
  /** The underlying database, for tests and maintenance tools (backup). */
  readonly database: Database.Database;
}

/**
 * Opens (creating when missing) `<dataDir>/keystore.db`. The directory is created 0700 and the file 0600: the
 * material in it is encrypted, but policies and the audit log are nobody else's business either.
 */
export function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): SqliteStore {
  const readonly = options.readonly ?? false;
  const every = options.checkpoints?.every ?? 100;
  if (!Number.isInteger(every) || every < 1) throw new KeystoreError('ERR_STORE_OPEN', 'checkpoints.every must be a positive integer');
  const path = join(dataDir, STORE_FILE);
  let db: Database.Database;
  try {
    if (!readonly) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      // SQLite creates its -wal and -shm files with the database file's permissions.
      closeSync(openSync(path, 'a', 0o600));
    }
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (cause) {
    throw new KeystoreError('ERR_STORE_OPEN', `cannot open the key store "${path}": ${causeName(cause)}`, { cause });
  }
  try {
    applyPragmas(db, readonly);
    migrate(db, readonly);
  } catch (e) {
    db.close();
    if (e instanceof KeystoreError) throw e;
    throw new KeystoreError('ERR_STORE_OPEN', `cannot open the key store "${path}": ${causeName(e)}`, { cause: e });
  }
  const audit = new SqliteAudit(db, options.checkpoints ? { signer: options.checkpoints.signer, every } : undefined);
  const keys = new SqliteKeys(db, audit);
  return { keys, audit, database: db, close: () => db.close() };
}
