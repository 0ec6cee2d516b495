import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../../keys/audit/verify.js';
import { Keystore } from '../../../keys/keystore/keystore.js';
import { openSqliteStore } from '../../../keys/keystore/sqlite/open.js';
import { SCHEMA_VERSION } from '../../../keys/keystore/sqlite/schema.js';
import { ADMIN, POLICY, type TestStore, caught, openTestStore } from './fixtures.js';

describe('SQLite store', () => {
  let t: TestStore;
  beforeEach(() => {
    t = openTestStore();
  });
  afterEach(() => t.close());

  it('uses WAL with synchronous=FULL, foreign keys and secure_delete, and records its schema version', () => {
    const db = t.store.database;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: SCHEMA_VERSION });
  });

  it('creates the database file 0600', () => {
    expect(statSync(join(t.dir, 'keystore.db')).mode & 0o777).toBe(0o600);
  });

  it('reopens idempotently and refuses a store from a newer build', () => {
    openSqliteStore(t.dir).close();
    t.store.database.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    expect(() => openSqliteStore(t.dir)).toThrow(expect.objectContaining({ code: 'ERR_STORE_SCHEMA' }));
    t.store.database.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
  });

  it('opens read-only for verification and refuses writes there', async () => {
    await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const ro = openSqliteStore(t.dir, { readonly: true });
    try {
      expect((await verifyAuditLog(ro.audit, t.checkpointKey)).ok).toBe(true);
      const ks = new Keystore({ storage: ro.keys, kek: t.kek });
      expect((await ks.get('k')).name).toBe('k');
      expect((await caught(() => ks.rotate('k', ADMIN))).code).toBe('ERR_STORE_WRITE');
    } finally {
      ro.close();
    }
    expect(() => openSqliteStore(join(t.dir, 'nowhere'), { readonly: true })).toThrow(expect.objectContaining({ code: 'ERR_STORE_OPEN' }));
  });

  it('makes the audit log append-only for ordinary SQL', async () => {
    await t.keystore.create('k', { kty: 'oct' }, ADMIN);
    expect(() => t.store.database.prepare("UPDATE audit_log SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => t.store.database.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
  });

  it('commits a key change and its audit entry together or not at all', async () => {
    await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const before = (await t.audit.tail(100)).length;
    // A record that cannot be written (a token as actor, secret details: refused inside the transaction) undoes the change.
    const e = await caught(() => t.keystore.create('j', { kty: 'oct' }, { actor: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' }));
    expect(e.code).toBe('ERR_AUDIT_DETAILS');
    expect((await caught(() => t.keystore.get('j'))).code).toBe('ERR_KEYSTORE_NOT_FOUND');
    const current = (await t.store.keys.getVersion('k'))!;
    const unsafe = await caught(() =>
      t.store.keys.insertVersion(
        { version: { ...current, version: 'f'.repeat(32) }, newKey: null, expectLatest: null },
        [{ kind: 'key-rotated', actor: 'a', details: { k: 'secret bytes' } }],
        new Date().toISOString(),
      ),
    );
    expect(unsafe.code).toBe('ERR_AUDIT_DETAILS');
    expect((await t.keystore.listVersions('k')).length).toBe(1);
    expect((await t.audit.tail(100)).length).toBe(before);
    expect((await verifyAuditLog(t.store.audit, t.checkpointKey)).ok).toBe(true);
  });

  it('turns a lost race into ERR_KEYSTORE_CONFLICT without a partial write', async () => {
    await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const stale = (await t.store.keys.getVersion('k'))!;
    await t.keystore.setEnabled('k', false, ADMIN);
    const e = await caught(() => t.store.keys.updateVersion('k', stale.version, stale.rev, { enabled: true, updated: 1 }, [], new Date().toISOString()));
    expect(e.code).toBe('ERR_KEYSTORE_CONFLICT');
    expect((await t.keystore.get('k')).attributes.enabled).toBe(false);
    const raw = new Database(join(t.dir, 'keystore.db'));
    try {
      expect(raw.prepare('SELECT COUNT(*) AS n FROM key_versions').get()).toEqual({ n: 1 });
    } finally {
      raw.close();
    }
  });
});
