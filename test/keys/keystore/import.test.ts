import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImportedJwk } from '../../../keys/keystore/types.js';
import { ADMIN, OTHER_POLICY, POLICY, type TestStore, caught, openTestStore } from './fixtures.js';

function rsaJwk(bits = 2048): ImportedJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return privateKey.export({ format: 'jwk' }) as ImportedJwk;
}

describe('keystore: import (Key Vault import semantics)', () => {
  let t: TestStore;
  beforeEach(() => {
    t = openTestStore();
  });
  afterEach(() => t.close());

  it('imports an oct key as oct-HSM (hsm) and releases exactly its bytes', async () => {
    const k = randomBytes(32);
    const info = await t.keystore.import('dk', { key: { kty: 'oct', k: k.toString('base64url') }, hsm: true, exportable: true, releasePolicy: POLICY }, ADMIN);
    expect(info).toMatchObject({ kty: 'oct-HSM', keySize: 256, publicKey: null, attributes: { exportable: true, enabled: true } });
    const { material } = await t.keystore.exportForRelease('dk');
    expect(Buffer.from(material)).toEqual(k);
  });

  it('imports an RSA private JWK: public part kept, PKCS#8 released', async () => {
    const jwk = rsaJwk();
    const info = await t.keystore.import('rsa', { key: { ...jwk, kty: 'RSA-HSM', key_ops: ['wrapKey', 'unwrapKey'] }, exportable: true, releasePolicy: POLICY }, ADMIN);
    expect(info).toMatchObject({ kty: 'RSA-HSM', keySize: 2048, keyOps: ['wrapKey', 'unwrapKey'], publicKey: { n: jwk.n, e: jwk.e } });
    const { material } = await t.keystore.exportForRelease('rsa');
    const pub = createPublicKey(createPrivateKey({ key: Buffer.from(material), format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
    expect(pub.n).toBe(jwk.n);
  });

  it("enforces create's rules: policy and exportable both ways, exportable fixed, immutable policy kept", async () => {
    const key = { kty: 'oct', k: randomBytes(32).toString('base64url') };
    expect((await caught(() => t.keystore.import('a', { key, exportable: true }, ADMIN))).code).toBe('ERR_KEYSTORE_EXPORTABLE_NEEDS_POLICY');
    expect((await caught(() => t.keystore.import('a', { key, releasePolicy: POLICY }, ADMIN))).code).toBe('ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE');
    expect((await caught(() => t.keystore.import('a', { key, exportable: true, releasePolicy: { data: 'bm90IGpzb24' } }, ADMIN))).code).toBe('ERR_KEYSTORE_POLICY_INVALID');
    await t.keystore.import('a', { key, exportable: true, releasePolicy: { ...POLICY, immutable: true } }, ADMIN);
    expect((await caught(() => t.keystore.import('a', { key }, ADMIN))).code).toBe('ERR_KEYSTORE_EXPORTABLE_FIXED');
    expect((await caught(() => t.keystore.import('a', { key, exportable: true, releasePolicy: OTHER_POLICY }, ADMIN))).code).toBe('ERR_KEYSTORE_POLICY_IMMUTABLE');
    const v2 = await t.keystore.import('a', { key, exportable: true, releasePolicy: POLICY }, ADMIN);
    expect((await t.keystore.listVersions('a')).map((v) => v.version)).toContain(v2.version);
    expect((await caught(() => t.keystore.import('a', { key, exportable: true, releasePolicy: POLICY }, { ...ADMIN, ifExists: 'fail' }))).code).toBe('ERR_KEYSTORE_EXISTS');
  });

  it('refuses unusable material without echoing it', async () => {
    const k = randomBytes(20).toString('base64url');
    const bad = async (key: ImportedJwk): Promise<{ code?: string; message: string }> => caught(() => t.keystore.import('b', { key }, ADMIN));
    expect((await bad({ kty: 'oct', k })).code).toBe('ERR_KEYSTORE_KEY_TYPE');
    expect((await bad({ kty: 'oct' })).code).toBe('ERR_KEYSTORE_KEY_MATERIAL');
    expect((await bad({ kty: 'oct', k: 'not base64url!' })).code).toBe('ERR_KEYSTORE_KEY_MATERIAL');
    expect((await bad({ kty: 'EC', k })).code).toBe('ERR_KEYSTORE_KEY_TYPE');
    const jwk = rsaJwk();
    const { d: _d, ...publicOnly } = jwk;
    expect((await bad(publicOnly)).code).toBe('ERR_KEYSTORE_KEY_MATERIAL');
    const other = rsaJwk();
    const mixed = await bad({ ...jwk, p: other.p!, q: other.q!, dp: other.dp!, dq: other.dq!, qi: other.qi! });
    expect(mixed.code).toBe('ERR_KEYSTORE_KEY_MATERIAL');
    expect(mixed.message).not.toContain(other.p!.slice(0, 16));
    expect((await bad({ ...rsaJwk(), key_ops: ['sign', 'sign'] })).code).toBe('ERR_KEYSTORE_KEY_OPS');
    expect(await t.keystore.list()).toEqual([]);
  });

  it('records key-created (then key-rotated) with imported: true and never the material', async () => {
    const k = randomBytes(32).toString('base64url');
    await t.keystore.import('c', { key: { kty: 'oct-HSM', k }, exportable: true, releasePolicy: POLICY }, ADMIN);
    await t.keystore.import('c', { key: { kty: 'oct-HSM', k }, exportable: true, releasePolicy: POLICY }, ADMIN);
    const entries = await t.audit.query({ name: 'c' });
    expect(entries.map((e) => [e.kind, e.details.imported])).toEqual([
      ['key-created', true],
      ['key-rotated', true],
    ]);
    expect(JSON.stringify(entries)).not.toContain(k);
  });
});
