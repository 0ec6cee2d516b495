import type Database from 'better-sqlite3';
import { KeystoreError, causeName, isKeystoreError } from '../errors.js';

/**
 * Runs `fn` as one IMMEDIATE transaction (the write lock is taken up front, so the reads inside see what the
 * write will be based on). On any throw everything is rolled back; SQLite constraint failures become
 * ERR_KEYSTORE_CONFLICT (someone else wrote first), other database failures ERR_STORE_WRITE.
 */
export function runWrite<T>(db: Database.Database, fn: () => T): T {
  try {
    return db.transaction(fn).immediate();
  } catch (e) {
    if (isKeystoreError(e)) throw e;
    const code = causeName(e);
    if (code.startsWith('SQLITE_CONSTRAINT')) throw new KeystoreError('ERR_KEYSTORE_CONFLICT', `the write conflicts with a concurrent change (${code}); retry`, { cause: e });
    throw new KeystoreError('ERR_STORE_WRITE', `the store write failed (${code}); nothing was changed`, { cause: e });
  }
}
