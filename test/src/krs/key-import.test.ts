import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUER, removeTempDirs } from './fixtures.js';
import { KV, type KeyApp, keyApp, policyData } from './key-fixtures.js';

let krs: KeyApp;
beforeAll(async () => {
  krs = await keyApp();
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
});

const POLICY = policyData(ISSUER, [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }]);
type Body = { error: { code: string; message: string; zt4aiCode: string } };
type Bundle = { key: { kid: string; kty: string; key_ops: string[]; n?: string; e?: string; k?: string; d?: string }; attributes: { exportable: boolean; enabled: boolean }; release_policy?: { data: string } };

describe("PUT /keys/{name}: Key Vault's import", () => {
  it('imports an oct key as oct-HSM (Hsm, as the SDK spells it) and answers a KeyBundle without the bytes', async () => {
    const k = randomBytes(32).toString('base64url');
    const res = await krs.call('PUT', `/keys/imported-oct${KV}`, { key: { kty: 'oct', k }, Hsm: true, attributes: { exportable: true }, release_policy: { data: POLICY } });
    expect(res.statusCode).toBe(200);
    const b = res.json<Bundle>();
    expect(b.key.kid).toMatch(/\/keys\/imported-oct\/[0-9a-f]{32}$/);
    expect(b.key.kty).toBe('oct-HSM');
    expect(b.key.k).toBeUndefined();
    expect(b.attributes).toMatchObject({ exportable: true, enabled: true });
    expect(res.body).not.toContain(k);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('imports an RSA private JWK and answers its public part only', async () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const res = await krs.call('PUT', `/keys/imported-rsa${KV}`, { key: { ...jwk, kty: 'RSA-HSM' }, attributes: { exportable: true }, release_policy: { data: POLICY } });
    expect(res.statusCode).toBe(200);
    const b = res.json<Bundle>();
    expect(b.key).toMatchObject({ kty: 'RSA-HSM', n: jwk.n, e: jwk.e });
    expect(b.key.d).toBeUndefined();
  });

  it("keeps Key Vault's rules: exportable needs a policy, a policy needs exportable, invalid policies are refused", async () => {
    const key = { kty: 'oct-HSM', k: randomBytes(32).toString('base64url') };
    const code = async (body: unknown): Promise<[number, string]> => {
      const res = await krs.call('PUT', `/keys/rules${KV}`, body);
      return [res.statusCode, res.json<Body>().error.zt4aiCode];
    };
    expect(await code({ key, attributes: { exportable: true } })).toEqual([400, 'ERR_KEYSTORE_EXPORTABLE_NEEDS_POLICY']);
    expect(await code({ key, release_policy: { data: POLICY } })).toEqual([400, 'ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE']);
    const unknownOp = policyData(ISSUER, [{ claim: 'x', frobnicates: 1 }]);
    expect((await code({ key, attributes: { exportable: true }, release_policy: { data: unknownOp } }))[0]).toBe(400);
    expect(await code({ key: { kty: 'oct', k: randomBytes(20).toString('base64url') } })).toEqual([400, 'ERR_KEYSTORE_KEY_TYPE']);
    expect(await code({ key: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } })).toEqual([400, 'ERR_KEYSTORE_KEY_MATERIAL']);
    expect(await code({ key: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' } })).toEqual([400, 'ERR_KEY_FEATURE_UNSUPPORTED']);
    expect(await code({ key: { kty: 'RSA-HSM', key_hsm: 'AA' } })).toEqual([400, 'ERR_KEY_FEATURE_UNSUPPORTED']);
    expect(await code({ key, tags: { a: 'b' } })).toEqual([400, 'ERR_KEY_FEATURE_UNSUPPORTED']);
    expect((await krs.call('GET', `/keys/rules${KV}`)).statusCode).toBe(404);
  });

  it('needs keys.admin and records key-created with imported: true', async () => {
    const key = { kty: 'oct-HSM', k: randomBytes(32).toString('base64url') };
    expect((await krs.call('PUT', `/keys/nobody${KV}`, { key }, null)).statusCode).toBe(401);
    expect((await krs.call('PUT', `/keys/audited${KV}`, { key })).statusCode).toBe(200);
    const entries = (await krs.call('GET', '/audit?key=audited')).json<{ value: Array<{ kind: string; details: Record<string, unknown> }> }>().value;
    expect(entries.map((e) => [e.kind, e.details.imported])).toEqual([['key-created', true]]);
    expect(JSON.stringify(entries)).not.toContain(key.k);
  });
});
