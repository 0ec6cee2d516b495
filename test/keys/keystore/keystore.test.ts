import { createPrivateKey } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toKeyBundle, toKeyItem, toKeyVersionItem } from '../../../keys/keystore/key-vault-json.js';
import { toKeyVaultError } from '../../../keys/keystore/key-vault-errors.js';
import { KeystoreError } from '../../../keys/keystore/errors.js';
import { ADMIN, BASE_URL, OTHER_POLICY, POLICY, type TestStore, caught, openTestStore } from './fixtures.js';

describe('keystore: create, get, list', () => {
  let t: TestStore;
  beforeEach(() => {
    t = openTestStore();
  });
  afterEach(() => t.close());

  it('creates an exportable oct-HSM key with a policy and returns Key Vault shapes without secret parts', async () => {
    const info = await t.keystore.create('model-key', { kty: 'oct-HSM', exportable: true, releasePolicy: POLICY }, ADMIN);
    expect(info.version).toMatch(/^[0-9a-f]{32}$/);
    expect(info.keySize).toBe(256);
    expect(info.keyOps).toEqual(['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']);
    expect(info.releasePolicy).toEqual({ contentType: 'application/json; charset=utf-8', data: POLICY.data, immutable: false });
    const bundle = toKeyBundle(await t.keystore.get('model-key'), BASE_URL);
    expect(bundle.key).toEqual({ kid: `${BASE_URL}/keys/model-key/${info.version}`, kty: 'oct-HSM', key_ops: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] });
    expect(bundle.attributes).toMatchObject({ enabled: true, exportable: true, recoverableDays: 90, recoveryLevel: 'Recoverable+Purgeable' });
    expect(bundle.release_policy?.data).toBe(POLICY.data);
    expect(toKeyItem(info, `${BASE_URL}/`).kid).toBe(`${BASE_URL}/keys/model-key`);
    expect(toKeyVersionItem(info, BASE_URL).kid).toBe(`${BASE_URL}/keys/model-key/${info.version}`);
  });

  it('creates RSA keys of 2048/3072 bits with n/e and releases PKCS#8 DER that matches them', async () => {
    for (const keySize of [2048, 3072]) {
      const info = await t.keystore.create(`rsa-${keySize}`, { kty: 'RSA', keySize, exportable: true, releasePolicy: POLICY }, ADMIN);
      expect(info.publicKey?.e).toBe('AQAB');
      const { material } = await t.keystore.exportForRelease(`rsa-${keySize}`);
      const jwk = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
      expect(jwk.n).toBe(info.publicKey?.n);
      expect(createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).asymmetricKeyDetails?.modulusLength).toBe(keySize);
      material.fill(0);
    }
  });

  it('supports oct 128/192 and refuses other sizes, types and key_ops', async () => {
    expect((await t.keystore.create('o128', { kty: 'oct', keySize: 128 }, ADMIN)).keySize).toBe(128);
    expect((await t.keystore.create('o192', { kty: 'oct', keySize: 192 }, ADMIN)).keySize).toBe(192);
    expect((await caught(() => t.keystore.create('bad', { kty: 'oct', keySize: 512 }, ADMIN))).code).toBe('ERR_KEYSTORE_KEY_TYPE');
    expect((await caught(() => t.keystore.create('bad', { kty: 'RSA', keySize: 1024 }, ADMIN))).code).toBe('ERR_KEYSTORE_KEY_TYPE');
    expect((await caught(() => t.keystore.create('bad', { kty: 'EC' as 'RSA' }, ADMIN))).code).toBe('ERR_KEYSTORE_KEY_TYPE');
    expect((await caught(() => t.keystore.create('bad', { kty: 'oct', keyOps: ['sign'] }, ADMIN))).code).toBe('ERR_KEYSTORE_KEY_OPS');
    expect((await caught(() => t.keystore.create('bad', { kty: 'RSA', keyOps: ['encrypt', 'encrypt'] }, ADMIN))).code).toBe('ERR_KEYSTORE_KEY_OPS');
    expect((await caught(() => t.keystore.create('bad name', { kty: 'oct' }, ADMIN))).code).toBe('ERR_KEYSTORE_NAME');
    expect((await caught(() => t.keystore.get('o128', 'not-a-version'))).code).toBe('ERR_KEYSTORE_NAME');
    expect((await caught(() => t.keystore.get('missing'))).code).toBe('ERR_KEYSTORE_NOT_FOUND');
    expect((await caught(() => t.keystore.get('o128', '0'.repeat(32)))).code).toBe('ERR_KEYSTORE_NOT_FOUND');
  });

  it('enforces Key Vault exportable/policy rules (AKV.SKR.1004, 1005, 1003)', async () => {
    const e1004 = await caught(() => t.keystore.create('k', { kty: 'oct-HSM', exportable: true }, ADMIN));
    expect(e1004.code).toBe('ERR_KEYSTORE_EXPORTABLE_NEEDS_POLICY');
    expect(toKeyVaultError(e1004 as KeystoreError)).toMatchObject({ status: 400, body: { error: { code: 'BadParameter', message: expect.stringMatching(/^AKV\.SKR\.1004: /) } } });
    const e1005 = await caught(() => t.keystore.create('k', { kty: 'oct-HSM', releasePolicy: POLICY }, ADMIN));
    expect(e1005.code).toBe('ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE');
    expect(toKeyVaultError(e1005 as KeystoreError).body.error.message).toMatch(/^AKV\.SKR\.1005: /);
    await t.keystore.create('plain', { kty: 'oct' }, ADMIN);
    expect((await caught(() => t.keystore.setReleasePolicy('plain', POLICY, ADMIN))).code).toBe('ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE');
    expect((await caught(() => t.keystore.update('plain', { exportable: true }, ADMIN))).code).toBe('ERR_KEYSTORE_EXPORTABLE_FIXED');
    expect((await caught(() => t.keystore.create('plain', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN))).code).toBe('ERR_KEYSTORE_EXPORTABLE_FIXED');
  });

  it('validates the policy: base64url JSON object, contentType, the injected validator', async () => {
    const bad = (data: string) => t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: { data } }, ADMIN);
    expect((await caught(() => bad('not base64url!'))).code).toBe('ERR_KEYSTORE_POLICY_INVALID');
    expect((await caught(() => bad(Buffer.from('[1]').toString('base64url')))).code).toBe('ERR_KEYSTORE_POLICY_INVALID');
    expect((await caught(() => t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: { ...POLICY, contentType: 'text/plain' } }, ADMIN))).code).toBe('ERR_KEYSTORE_POLICY_INVALID');
    const strict = openTestStore({ keystore: { validatePolicy: () => { throw new Error('authority must be https'); } } });
    try {
      const e = await caught(() => strict.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN));
      expect(e).toMatchObject({ code: 'ERR_KEYSTORE_POLICY_INVALID', message: expect.stringContaining('authority must be https') });
    } finally {
      strict.close();
    }
    const padded = await t.keystore.create('padded', { kty: 'oct', exportable: true, releasePolicy: { data: `${Buffer.from('{"a":1}').toString('base64')}` } }, ADMIN);
    expect(padded.releasePolicy?.data).toBe(Buffer.from('{"a":1}').toString('base64url'));
  });

  it('lists keys and versions; create on an existing name adds a version unless ifExists is fail', async () => {
    const v1 = await t.keystore.create('a', { kty: 'oct' }, ADMIN);
    const v2 = await t.keystore.create('a', { kty: 'oct', keySize: 128 }, ADMIN);
    await t.keystore.create('b', { kty: 'oct' }, ADMIN);
    expect((await t.keystore.list()).map((k) => [k.name, k.version])).toEqual([
      ['a', v2.version],
      ['b', expect.any(String)],
    ]);
    expect((await t.keystore.listVersions('a')).map((k) => k.version)).toEqual([v1.version, v2.version]);
    expect((await t.keystore.get('a', v1.version.toUpperCase())).keySize).toBe(256);
    expect((await caught(() => t.keystore.create('a', { kty: 'oct' }, { ...ADMIN, ifExists: 'fail' }))).code).toBe('ERR_KEYSTORE_EXISTS');
  });
});

describe('keystore: policy updates, rotation, enable/disable, deletion', () => {
  let t: TestStore;
  beforeEach(() => {
    t = openTestStore();
  });
  afterEach(() => t.close());

  it('updates a mutable policy, then refuses any change of an immutable one (AKV.SKR.1020)', async () => {
    await t.keystore.create('k', { kty: 'oct-HSM', exportable: true, releasePolicy: POLICY }, ADMIN);
    expect((await t.keystore.setReleasePolicy('k', OTHER_POLICY, ADMIN)).releasePolicy?.data).toBe(OTHER_POLICY.data);
    expect((await t.keystore.setReleasePolicy('k', { ...POLICY, immutable: true }, ADMIN)).releasePolicy?.immutable).toBe(true);
    const e = await caught(() => t.keystore.setReleasePolicy('k', OTHER_POLICY, ADMIN));
    expect(e.code).toBe('ERR_KEYSTORE_POLICY_IMMUTABLE');
    expect(toKeyVaultError(e as KeystoreError).body.error.message).toMatch(/^AKV\.SKR\.1020: /);
    expect((await caught(() => t.keystore.setReleasePolicy('k', { ...POLICY, immutable: true }, ADMIN))).code).toBe('ERR_KEYSTORE_POLICY_IMMUTABLE');
    // A new version through create must keep the immutable policy as it is.
    expect((await caught(() => t.keystore.create('k', { kty: 'oct-HSM', exportable: true, releasePolicy: OTHER_POLICY }, ADMIN))).code).toBe('ERR_KEYSTORE_POLICY_IMMUTABLE');
    const same = await t.keystore.create('k', { kty: 'oct-HSM', exportable: true, releasePolicy: POLICY }, ADMIN);
    expect(same.releasePolicy?.immutable).toBe(true);
  });

  it('rotates: a new current version inheriting type, ops, exportability and policy', async () => {
    const v1 = await t.keystore.create('k', { kty: 'RSA-HSM', keyOps: ['encrypt', 'decrypt'], exportable: true, releasePolicy: { ...POLICY, immutable: true } }, ADMIN);
    const v2 = await t.keystore.rotate('k', ADMIN);
    expect(v2.version).not.toBe(v1.version);
    expect(v2).toMatchObject({ kty: 'RSA-HSM', keySize: 2048, keyOps: ['encrypt', 'decrypt'], releasePolicy: v1.releasePolicy, attributes: { exportable: true, enabled: true } });
    expect(v2.publicKey?.n).not.toBe(v1.publicKey?.n);
    expect((await t.keystore.get('k')).version).toBe(v2.version);
    const a = await t.keystore.exportForRelease('k', { version: v1.version });
    const b = await t.keystore.exportForRelease('k');
    expect(a.material.equals(b.material)).toBe(false);
    expect(b.key.version).toBe(v2.version);
  });

  it('disables and enables versions; disabled and non-exportable keys are never exported', async () => {
    const v1 = await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const v2 = await t.keystore.rotate('k', ADMIN);
    await t.keystore.setEnabled('k', false, { ...ADMIN, version: v1.version });
    expect((await t.keystore.get('k', v1.version)).attributes.enabled).toBe(false);
    const e = await caught(() => t.keystore.exportForRelease('k', { version: v1.version }));
    expect(e.code).toBe('ERR_KEYSTORE_DISABLED');
    expect(toKeyVaultError(e as KeystoreError)).toMatchObject({ status: 403, body: { error: { code: 'Forbidden', innererror: { code: 'KeyDisabled' } } } });
    expect((await t.keystore.exportForRelease('k')).key.version).toBe(v2.version);
    await t.keystore.setEnabled('k', true, { ...ADMIN, version: v1.version });
    expect((await t.keystore.exportForRelease('k', { version: v1.version })).material).toHaveLength(32);
    await t.keystore.create('private', { kty: 'oct' }, ADMIN);
    expect((await caught(() => t.keystore.exportForRelease('private'))).code).toBe('ERR_KEYSTORE_NOT_EXPORTABLE');
  });

  it('runs the authorize hook on the checked key before decrypting, and propagates its refusal', async () => {
    await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const seen: string[] = [];
    const out = await t.keystore.exportForRelease('k', { authorize: (key) => void seen.push(key.releasePolicy!.data) });
    expect(seen).toEqual([POLICY.data]);
    out.material.fill(0);
    const denied = new Error('policy not satisfied');
    await expect(t.keystore.exportForRelease('k', { authorize: () => { throw denied; } })).rejects.toBe(denied);
  });

  it('soft-deletes (gone from get, list and release; name taken), recovers, purges', async () => {
    await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const deleted = await t.keystore.delete('k', ADMIN);
    expect(deleted.scheduledPurgeDate - deleted.deletedDate).toBe(90 * 86400);
    expect((await caught(() => t.keystore.get('k'))).code).toBe('ERR_KEYSTORE_NOT_FOUND');
    expect((await caught(() => t.keystore.exportForRelease('k'))).code).toBe('ERR_KEYSTORE_NOT_FOUND');
    expect(await t.keystore.list()).toEqual([]);
    expect((await t.keystore.listDeleted()).map((d) => d.key.name)).toEqual(['k']);
    expect((await caught(() => t.keystore.create('k', { kty: 'oct' }, ADMIN))).code).toBe('ERR_KEYSTORE_DELETED');
    await t.keystore.recover('k', ADMIN);
    expect((await t.keystore.get('k')).name).toBe('k');
    expect((await caught(() => t.keystore.purge('k', ADMIN))).code).toBe('ERR_KEYSTORE_NOT_DELETED');
    await t.keystore.delete('k', ADMIN);
    await t.keystore.purge('k', ADMIN);
    expect((await caught(() => t.keystore.getDeleted('k'))).code).toBe('ERR_KEYSTORE_NOT_FOUND');
    expect((await t.keystore.create('k', { kty: 'oct' }, ADMIN)).name).toBe('k');
  });

  it('purges deleted keys whose recovery period is over', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const s = openTestStore({ keystore: { now: () => now, recoverableDays: 7 } });
    try {
      await s.keystore.create('old', { kty: 'oct' }, ADMIN);
      await s.keystore.delete('old', ADMIN);
      now = new Date('2030-01-05T00:00:00Z');
      expect(await s.keystore.purgeExpired(ADMIN)).toEqual([]);
      now = new Date('2030-01-08T00:00:01Z');
      expect(await s.keystore.purgeExpired(ADMIN)).toEqual(['old']);
    } finally {
      s.close();
    }
  });

  it('records every change in the audit log with digests, never the policy or material', async () => {
    const v1 = await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    await t.keystore.rotate('k', { actor: 'rotator' });
    await t.keystore.setReleasePolicy('k', OTHER_POLICY, ADMIN);
    await t.keystore.setEnabled('k', false, ADMIN);
    await t.keystore.delete('k', ADMIN);
    const entries = await t.audit.query({ name: 'k' });
    expect(entries.map((e) => e.kind)).toEqual(['key-created', 'key-rotated', 'policy-changed', 'key-disabled', 'key-deleted']);
    expect(entries[0]).toMatchObject({ subject: { name: 'k', version: v1.version }, actor: 'admin@test', details: { kty: 'oct', exportable: true, policySha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(entries[1]?.actor).toBe('rotator');
    expect(JSON.stringify(entries)).not.toContain(POLICY.data);
  });
});

describe('keystore: integrity at rest', () => {
  let t: TestStore;
  beforeEach(() => {
    t = openTestStore();
  });
  afterEach(() => t.close());

  it('detects swapped material between rows and a policy edited in the database', async () => {
    const a = await t.keystore.create('a', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const b = await t.keystore.create('b', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    expect(await t.keystore.checkIntegrity()).toEqual({ checked: 2, failures: [] });
    const db = t.store.database;
    const rowA = db.prepare('SELECT wrapped_dek, iv, ciphertext, tag, mac FROM key_versions WHERE name = ?').get('a') as Record<string, Buffer>;
    db.prepare('UPDATE key_versions SET wrapped_dek = @wrapped_dek, iv = @iv, ciphertext = @ciphertext, tag = @tag, mac = @mac WHERE name = @name').run({ ...rowA, name: 'b' });
    expect((await caught(() => t.keystore.exportForRelease('b'))).code).toBe('ERR_KEK_UNWRAP');
    db.prepare('UPDATE key_versions SET policy_data = ? WHERE name = ?').run(OTHER_POLICY.data, 'a');
    const e = await caught(() => t.keystore.exportForRelease('a'));
    expect(e.code).toBe('ERR_KEYSTORE_CORRUPT');
    expect(toKeyVaultError(e as KeystoreError)).toMatchObject({ status: 500, body: { error: { code: 'InternalServerError' } } });
    expect((await caught(() => t.keystore.setReleasePolicy('a', POLICY, ADMIN))).code).toBe('ERR_KEYSTORE_CORRUPT');
    expect((await caught(() => t.keystore.rotate('a', ADMIN))).code).toBe('ERR_KEYSTORE_CORRUPT');
    // Disabling stays possible (fail-safe), and does not make the tampered row authentic.
    await t.keystore.setEnabled('a', false, ADMIN);
    expect((await caught(() => t.keystore.setEnabled('a', true, ADMIN))).code).toBe('ERR_KEYSTORE_CORRUPT');
    db.prepare('UPDATE key_versions SET enabled = 1 WHERE name = ?').run('a');
    expect((await caught(() => t.keystore.exportForRelease('a'))).code).toBe('ERR_KEYSTORE_CORRUPT');
    const report = await t.keystore.checkIntegrity();
    expect(report.failures.map((f) => [f.name, f.version, f.code])).toEqual([
      ['a', a.version, 'ERR_KEYSTORE_CORRUPT'],
      ['b', b.version, 'ERR_KEK_UNWRAP'],
    ]);
  });

  it('detects a flipped exportable flag and a changed ciphertext byte', async () => {
    await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    await t.keystore.create('n', { kty: 'oct' }, ADMIN);
    const db = t.store.database;
    db.prepare("UPDATE key_versions SET exportable = 1, policy_data = ?, policy_content_type = 'application/json', policy_immutable = 0 WHERE name = 'n'").run(POLICY.data);
    expect((await caught(() => t.keystore.exportForRelease('n'))).code).toBe('ERR_KEYSTORE_CORRUPT');
    const row = db.prepare("SELECT ciphertext FROM key_versions WHERE name = 'k'").get() as { ciphertext: Buffer };
    row.ciphertext[0]! ^= 1;
    db.prepare("UPDATE key_versions SET ciphertext = ? WHERE name = 'k'").run(row.ciphertext);
    expect((await caught(() => t.keystore.exportForRelease('k'))).code).toBe('ERR_KEYSTORE_CORRUPT');
  });

  it('refuses a data key that another KEK wrapped (ERR_KEK_MISMATCH)', async () => {
    await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    t.store.database.prepare("UPDATE key_versions SET kek_id = 'local:other'").run();
    const e = await caught(() => t.keystore.exportForRelease('k'));
    expect(e.code).toBe('ERR_KEK_MISMATCH');
    expect(e).toBeInstanceOf(KeystoreError);
  });
});
