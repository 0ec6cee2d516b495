import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../keys/audit/canonical-json.js';
import { createCheckpointSigner, generateCheckpointKey, signCheckpoint } from '../../../keys/audit/checkpoint.js';
import { GENESIS_HASH, entryHash, tokenReference } from '../../../keys/audit/entry.js';
import { verifyAuditLog } from '../../../keys/audit/verify.js';
import { ADMIN, POLICY, type TestStore, caught, openTestStore } from '../keystore/fixtures.js';

const JWT = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"jti":"abc123","sub":"x"}').toString('base64url')}.c2lnbmF0dXJl`;

/** Lets a test act as an attacker with write access to the database file: the append-only triggers go first. */
function tamper(db: Database.Database, sql: string, ...params: unknown[]): void {
  for (const t of ['audit_log_append_only_u', 'audit_log_append_only_d', 'audit_checkpoints_append_only_u', 'audit_checkpoints_append_only_d']) db.exec(`DROP TRIGGER IF EXISTS ${t}`);
  db.prepare(sql).run(...params);
}

/** Recomputes every hash from `fromSeq` on, as an attacker who knows the chain rule would after an edit. */
function rechain(db: Database.Database, fromSeq: number): void {
  const rows = db.prepare('SELECT seq, time, kind, subject_name, subject_version, actor, details, hash FROM audit_log ORDER BY seq').all() as Array<Record<string, string | number | null>>;
  let prev = GENESIS_HASH;
  for (const r of rows) {
    if ((r.seq as number) >= fromSeq) {
      const subject = { ...(r.subject_name === null ? {} : { name: r.subject_name as string }), ...(r.subject_version === null ? {} : { version: r.subject_version as string }) };
      const hash = entryHash(prev, { seq: r.seq as number, time: r.time as string, kind: r.kind as 'attestation', subject, actor: r.actor as string, details: JSON.parse(r.details as string) });
      tamper(db, 'UPDATE audit_log SET hash = ? WHERE seq = ?', hash, r.seq);
      prev = hash;
    } else {
      prev = r.hash as string;
    }
  }
}

describe('audit log', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = openTestStore({ every: 5 });
    // 12 entries: checkpoints at 5 and 10.
    await t.keystore.create('model', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    for (let i = 0; i < 10; i++) {
      await t.audit.append({ kind: i % 2 ? 'release-denied' : 'release-allowed', subject: { name: 'model' }, actor: `runner-${i}`, details: { token: tokenReference(JWT), failing: i % 2 ? ['x-ms-sevsnpvm-is-debuggable equals false'] : [] } });
    }
    await t.audit.append({ kind: 'attestation', actor: 'krs', details: { measurement: 'ab'.repeat(48) } });
  });
  afterEach(() => t.close());

  const db = (): Database.Database => t.store.database;

  it('chains entries, signs checkpoints every N, and verifies', async () => {
    const verdict = await verifyAuditLog(t.store.audit, t.checkpointKey);
    expect(verdict).toEqual({ ok: true, entries: 12, lastSeq: 12, lastHash: expect.stringMatching(/^[0-9a-f]{64}$/), lastCheckpointSeq: 10, uncheckpointed: 2 });
    expect((await t.audit.checkpoints()).map((c) => c.seq)).toEqual([5, 10]);
    const cp = await t.audit.checkpoint();
    expect(cp?.seq).toBe(12);
    expect(await t.audit.checkpoint()).toEqual(cp);
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey, { anchor: cp! })).toMatchObject({ ok: true, uncheckpointed: 0 });
  });

  it('answers queries by key, kind and time range, and tail(n)', async () => {
    const all = await t.audit.query({ name: 'model', limit: 1000 });
    expect(all).toHaveLength(11);
    expect(await t.audit.query({ name: 'model', kinds: ['release-denied'] })).toHaveLength(5);
    expect((await t.audit.query({ name: 'model', afterSeq: 9 })).map((e) => e.seq)).toEqual([10, 11]);
    expect(await t.audit.query({ since: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await t.audit.query({ until: new Date(Date.now() + 60_000), limit: 2 })).toHaveLength(2);
    const tail = await t.audit.tail(3);
    expect(tail.map((e) => e.seq)).toEqual([10, 11, 12]);
    expect(tail[1]?.details).toEqual({ token: { jti: 'abc123', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, failing: ['x-ms-sevsnpvm-is-debuggable equals false'] });
  });

  it('refuses details that must never be logged: tokens, key material fields, private keys', async () => {
    const refuse = async (details: Record<string, unknown>) => (await caught(() => t.audit.append({ kind: 'attestation', actor: 'krs', details: details as never }))).code;
    expect(await refuse({ target: JWT })).toBe('ERR_AUDIT_DETAILS');
    expect(await refuse({ nested: [{ k: 'AAAA' }] })).toBe('ERR_AUDIT_DETAILS');
    expect(await refuse({ key_hsm: 'eyJ...' })).toBe('ERR_AUDIT_DETAILS');
    expect(await refuse({ pem: '-----BEGIN PRIVATE KEY-----\nMII...' })).toBe('ERR_AUDIT_DETAILS');
    expect(await refuse({ big: 'x'.repeat(20_000) })).toBe('ERR_AUDIT_DETAILS');
    expect((await caught(() => t.audit.append({ kind: 'attestation', actor: JWT }))).code).toBe('ERR_AUDIT_DETAILS');
    expect((await caught(() => t.audit.append({ kind: 'nonsense' as 'attestation', actor: 'x' }))).code).toBe('ERR_AUDIT_DETAILS');
    expect((await t.audit.tail(1))[0]?.seq).toBe(12);
  });

  it('detects an edited entry', async () => {
    tamper(db(), "UPDATE audit_log SET details = '{\"failing\":[],\"token\":{}}' WHERE seq = 3");
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 3, code: 'ERR_AUDIT_HASH' });
  });

  it('detects an edited entry whose chain was recomputed, at the covering checkpoint', async () => {
    tamper(db(), "UPDATE audit_log SET kind = 'release-allowed' WHERE seq = 7");
    rechain(db(), 7);
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 10, code: 'ERR_AUDIT_CHECKPOINT_HASH', message: expect.stringContaining('between 6 and 10') });
  });

  it('detects a deleted entry, also with later entries renumbered', async () => {
    tamper(db(), 'DELETE FROM audit_log WHERE seq = 4');
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 4, code: 'ERR_AUDIT_SEQ_GAP' });
    for (let s = 5; s <= 12; s++) tamper(db(), 'UPDATE audit_log SET seq = ? WHERE seq = ?', s - 1, s);
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 4, code: 'ERR_AUDIT_HASH' });
  });

  it('detects swapped entries', async () => {
    tamper(db(), 'UPDATE audit_log SET seq = -1 WHERE seq = 6');
    tamper(db(), 'UPDATE audit_log SET seq = 6 WHERE seq = 7');
    tamper(db(), 'UPDATE audit_log SET seq = 7 WHERE seq = -1');
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 6, code: 'ERR_AUDIT_HASH' });
  });

  it('detects a truncated tail up to the last checkpoint', async () => {
    tamper(db(), 'DELETE FROM audit_log WHERE seq >= 9');
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 9, code: 'ERR_AUDIT_TRUNCATED' });
  });

  it('detects a tail cut together with its checkpoints when an anchor was kept outside', async () => {
    const anchor = (await t.audit.checkpoint())!;
    tamper(db(), 'DELETE FROM audit_log WHERE seq >= 11');
    tamper(db(), 'DELETE FROM audit_checkpoints WHERE seq >= 11');
    expect((await verifyAuditLog(t.store.audit, t.checkpointKey)).ok).toBe(true);
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey, { anchor })).toMatchObject({ ok: false, seq: 11, code: 'ERR_AUDIT_ANCHOR' });
  });

  it('detects a forged checkpoint and an untrusted checkpoint key', async () => {
    const forger = createCheckpointSigner(generateCheckpointKey().privateKeyPem);
    const row = db().prepare('SELECT hash FROM audit_log WHERE seq = 12').get() as { hash: string };
    const forged = signCheckpoint(forger, 12, row.hash, new Date().toISOString());
    tamper(db(), 'INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)', forged.seq, forged.hash, forged.time, forged.keyId, forged.signature);
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 12, code: 'ERR_AUDIT_CHECKPOINT_SIGNATURE' });
    tamper(db(), 'DELETE FROM audit_checkpoints WHERE seq = 12');
    const cp5 = db().prepare('SELECT signature FROM audit_checkpoints WHERE seq = 5').get() as { signature: string };
    tamper(db(), 'UPDATE audit_checkpoints SET signature = ? WHERE seq = 10', cp5.signature);
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 10, code: 'ERR_AUDIT_CHECKPOINT_SIGNATURE' });
    expect(await verifyAuditLog(t.store.audit, createPublicKey(generateCheckpointKey().publicKeyPem))).toMatchObject({ ok: false, seq: 5, code: 'ERR_AUDIT_CHECKPOINT_SIGNATURE' });
  });

  it('reports a malformed row and requires a checkpoint when asked', async () => {
    tamper(db(), "UPDATE audit_log SET details = 'not json' WHERE seq = 2");
    expect(await verifyAuditLog(t.store.audit, t.checkpointKey)).toMatchObject({ ok: false, seq: 2, code: 'ERR_AUDIT_ENTRY_MALFORMED' });
    const fresh = openTestStore();
    try {
      await fresh.audit.append({ kind: 'attestation', actor: 'krs' });
      expect(await verifyAuditLog(fresh.store.audit, fresh.checkpointKey, { requireCheckpoint: true })).toMatchObject({ ok: false, code: 'ERR_AUDIT_UNCHECKPOINTED' });
    } finally {
      fresh.close();
    }
  });

  it('signs checkpoints with ECDSA P-256 too and refuses RSA checkpoint keys', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const s = openTestStore({ checkpointPrivatePem: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), every: 1 });
    try {
      await s.audit.append({ kind: 'attestation', actor: 'krs' });
      expect(await verifyAuditLog(s.store.audit, ec.publicKey, { requireCheckpoint: true })).toMatchObject({ ok: true, lastCheckpointSeq: 1 });
    } finally {
      s.close();
    }
    expect(() => createCheckpointSigner(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)).toThrow(expect.objectContaining({ code: 'ERR_AUDIT_SIGNER' }));
  });

  it('hashes canonical JSON: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
    const e = { seq: 1, time: '2030-01-01T00:00:00.000Z', kind: 'attestation' as const, subject: {}, actor: 'a', details: { x: 1, y: 2 } };
    expect(entryHash(GENESIS_HASH, e)).toBe(entryHash(GENESIS_HASH, { ...e, details: { y: 2, x: 1 } }));
    expect(entryHash(GENESIS_HASH, e)).not.toBe(entryHash(GENESIS_HASH, { ...e, details: { x: 1, y: 3 } }));
  });
});
