import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeReleasePolicy } from '../../../keys/keystore/index.js';
import { ISSUER, removeTempDirs } from './fixtures.js';
import { KV, type KeyApp, exportableKey, keyApp, policyData } from './key-fixtures.js';

let krs: KeyApp;
beforeAll(async () => {
  krs = await keyApp();
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
});

const POLICY = policyData(ISSUER, [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }]);
type Body = { error: { code: string; message: string; innererror?: { code: string }; zt4aiCode: string; details?: Array<Record<string, unknown>> } };
type Bundle = { key: { kid: string; kty: string; key_ops: string[]; n?: string; e?: string; d?: string }; attributes: Record<string, unknown>; release_policy?: { data: string; immutable: boolean; contentType: string } };

describe("Key Vault's bearer challenge", () => {
  it('answers a request without a token 401 with the WWW-Authenticate the SDK parses, before reading the body', async () => {
    const res = await krs.app.inject({ method: 'POST', url: `/keys/k/create${KV}`, headers: { 'content-type': 'application/json', 'content-length': '0' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer authorization="${ISSUER}", resource="api://zt4ai-krs"`);
    expect(res.json<Body>().error).toEqual({ code: 'Unauthorized', message: 'Request is missing a Bearer or PoP token.', zt4aiCode: 'ERR_AUTH_MISSING' });
    expect(res.headers['x-zt4ai-error-code']).toBe('ERR_AUTH_MISSING');
  });

  it('refuses a wrong token (401, challenge again) and counts it in the metrics', async () => {
    const res = await krs.call('GET', `/keys${KV}`, undefined, 'not-the-admin-token-at-all');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer authorization=/);
    expect(res.json<Body>().error.zt4aiCode).toBe('ERR_AUTH_INVALID');
    const metrics = (await krs.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/krs_auth_failures_total\{reason="ERR_AUTH_INVALID"\} [1-9]/);
  });

  it("takes Key Vault's api-versions (also percent-encoded as the SDK sends them) and refuses others", async () => {
    for (const v of ['7.3', '7.4', '7.6', '2025-07-01']) expect((await krs.call('GET', `/keys?api%2Dversion=${v}`)).statusCode, v).toBe(200);
    const bad = await krs.call('GET', '/keys?api-version=2022-08-01');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Body>().error).toMatchObject({ code: 'BadParameter', zt4aiCode: 'ERR_KEYS_API_VERSION' });
    expect((await krs.call('GET', '/keys')).json<Body>().error.zt4aiCode).toBe('ERR_KEYS_API_VERSION');
  });
});

describe('key administration on Key Vault paths', () => {
  it('creates an exportable oct-HSM key with a release policy and answers a KeyBundle without secret parts', async () => {
    const res = await krs.call('POST', `/keys/model-a/create${KV}`, exportableKey(POLICY, { key_ops: ['wrapKey', 'unwrapKey'] }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const b = res.json<Bundle>();
    expect(b.key.kid).toMatch(new RegExp(`^${ISSUER}/keys/model-a/[0-9a-f]{32}$`));
    expect(b.key).toEqual({ kid: b.key.kid, kty: 'oct-HSM', key_ops: ['wrapKey', 'unwrapKey'] });
    expect(b.attributes).toMatchObject({ enabled: true, exportable: true, recoverableDays: 90, recoveryLevel: 'Recoverable+Purgeable' });
    expect(b.release_policy).toEqual({ contentType: 'application/json; charset=utf-8', data: POLICY, immutable: false });
  });

  it('creates RSA-HSM 3072 keys whose get shows n and e only', async () => {
    const res = await krs.call('POST', `/keys/rsa-a/create${KV}`, { kty: 'RSA-HSM', key_size: 3072 });
    expect(res.statusCode, res.body).toBe(200);
    const got = (await krs.call('GET', `/keys/rsa-a/${KV}`)).json<Bundle>();
    expect(Buffer.from(got.key.n!, 'base64url').length).toBe(384);
    expect(got.key.e).toBe('AQAB');
    expect(Object.keys(got.key).sort()).toEqual(['e', 'key_ops', 'kid', 'kty', 'n']);
    expect(got.attributes.exportable).toBe(false);
  });

  it('gets a key by name, name/ (the SDK form) and version; 404 KeyNotFound otherwise', async () => {
    const byName = (await krs.call('GET', `/keys/model-a${KV}`)).json<Bundle>();
    const version = byName.key.kid.split('/').at(-1)!;
    expect((await krs.call('GET', `/keys/model-a/${KV}`)).json<Bundle>()).toEqual(byName);
    expect((await krs.call('GET', `/keys/model-a/${version.toUpperCase()}${KV}`)).json<Bundle>()).toEqual(byName);
    const missing = await krs.call('GET', `/keys/nope${KV}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json<Body>().error).toMatchObject({ code: 'KeyNotFound', zt4aiCode: 'ERR_KEYSTORE_NOT_FOUND' });
  });

  it("lists keys and versions in Key Vault's paging shape, following nextLink", async () => {
    for (const n of ['page-1', 'page-2', 'page-3']) await krs.call('POST', `/keys/${n}/create${KV}`, { kty: 'oct', key_size: 128 });
    const first = (await krs.call('GET', `/keys?api-version=7.5&maxresults=2`)).json<{ value: Array<{ kid: string }>; nextLink: string }>();
    expect(first.value).toHaveLength(2);
    expect(first.nextLink).toMatch(new RegExp(`^${ISSUER}/keys\\?api-version=7.5&maxresults=2&%24skiptoken=`));
    const names: string[] = first.value.map((v) => v.kid.split('/').at(-1)!);
    let next: string | null = first.nextLink;
    while (next) {
      const page: { value: Array<{ kid: string }>; nextLink: string | null } = (await krs.call('GET', next.slice(ISSUER.length))).json();
      names.push(...page.value.map((v) => v.kid.split('/').at(-1)!));
      next = page.nextLink;
    }
    expect(names).toEqual(['model-a', 'page-1', 'page-2', 'page-3', 'rsa-a']);
    await krs.call('POST', `/keys/page-1/rotate${KV}`);
    const versions = (await krs.call('GET', `/keys/page-1/versions${KV}`)).json<{ value: Array<{ kid: string; attributes: object }>; nextLink: null }>();
    expect(versions.value).toHaveLength(2);
    expect(versions.value[0]!.kid).toMatch(/\/keys\/page-1\/[0-9a-f]{32}$/);
  });

  it('rotates: a new current version inheriting type, operations and policy', async () => {
    const before = (await krs.call('GET', `/keys/model-a${KV}`)).json<Bundle>();
    const rotated = (await krs.call('POST', `/keys/model-a/rotate${KV}`)).json<Bundle>();
    // A bodyless POST that still says application/json is accepted too.
    const typed = await krs.app.inject({ method: 'POST', url: `/keys/page-2/rotate${KV}`, headers: { authorization: `Bearer ${krs.token}`, 'content-type': 'application/json' } });
    expect(typed.statusCode, typed.body).toBe(200);
    expect(rotated.key.kid).not.toBe(before.key.kid);
    expect(rotated.key.key_ops).toEqual(before.key.key_ops);
    expect(rotated.release_policy).toEqual(before.release_policy);
  });

  it('updates enabled and the release policy; an immutable policy is refused with AKV.SKR.1020', async () => {
    const other = policyData(ISSUER, [{ claim: 'x-ms-sevsnpvm-vmpl', equals: 0 }]);
    const disabled = await krs.call('PATCH', `/keys/model-a/${KV}`, { attributes: { enabled: false } });
    expect(disabled.json<Bundle>().attributes.enabled).toBe(false);
    const updated = await krs.call('PATCH', `/keys/model-a${KV}`, { release_policy: { data: other, immutable: true }, attributes: { enabled: true } });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json<Bundle>().release_policy).toMatchObject({ data: other, immutable: true });
    const refused = await krs.call('PATCH', `/keys/model-a${KV}`, { release_policy: { data: POLICY } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<Body>().error).toMatchObject({ code: 'BadParameter', zt4aiCode: 'ERR_KEYSTORE_POLICY_IMMUTABLE' });
    expect(refused.json<Body>().error.message).toMatch(/^AKV\.SKR\.1020: /);
    const version = updated.json<Bundle>().key.kid.split('/').at(-1);
    const versioned = await krs.call('PATCH', `/keys/model-a/${version}${KV}`, { release_policy: { data: POLICY } });
    expect(versioned.json<Body>().error.zt4aiCode).toBe('ERR_POLICY_VERSIONLESS');
  });

  it("refuses a policy the release engine could not evaluate (unknown operator) at create and update, naming the policy's code", async () => {
    const bad = encodeReleasePolicy({ version: '1.0.0', anyOf: [{ authority: ISSUER, allOf: [{ claim: 'x-ms-sevsnpvm-vmpl', matches: '0' }] }] });
    for (const [method, url, body] of [
      ['POST', `/keys/bad-policy/create${KV}`, exportableKey(bad)],
      ['PATCH', `/keys/rsa-a${KV}`, { release_policy: { data: bad } }],
    ] as const) {
      const res = await krs.call(method, url, body);
      expect(res.statusCode, url).toBe(400);
      const error = res.json<Body>().error;
      expect(error).toMatchObject({ code: 'BadParameter', zt4aiCode: 'ERR_KEYSTORE_POLICY_INVALID' });
      expect(error.details).toEqual([expect.objectContaining({ code: 'ERR_POLICY_OPERATOR_UNKNOWN', path: '/anyOf/0/allOf/0/matches' })]);
    }
    expect((await krs.call('GET', `/keys/bad-policy${KV}`)).statusCode).toBe(404);
  });

  it("enforces Key Vault's exportable rules (AKV.SKR.1004/1005) and refuses what it cannot honour", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ kty: 'oct-HSM', attributes: { exportable: true } }, 'ERR_KEYSTORE_EXPORTABLE_NEEDS_POLICY'],
      [{ kty: 'oct-HSM', release_policy: { data: POLICY } }, 'ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE'],
      [{ kty: 'oct-HSM', attributes: { exp: 2_000_000_000 } }, 'ERR_KEY_FEATURE_UNSUPPORTED'],
      [{ kty: 'oct-HSM', tags: { team: 'ml' } }, 'ERR_KEY_FEATURE_UNSUPPORTED'],
      [{ kty: 'EC-HSM', crv: 'P-256' }, 'ERR_KEY_FEATURE_UNSUPPORTED'],
      [{ kty: 'RSA', key_size: 1024 }, 'ERR_KEYSTORE_KEY_TYPE'],
      [{ kty: 'oct', surprise: true }, 'ERR_INVALID_REQUEST'],
    ];
    for (const [body, code] of cases) {
      const res = await krs.call('POST', `/keys/rules/create${KV}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json<Body>().error.zt4aiCode, JSON.stringify(body)).toBe(code);
    }
  });

  it('soft-deletes (DeletedKeyBundle), shows, recovers and purges (204)', async () => {
    await krs.call('POST', `/keys/gone/create${KV}`, { kty: 'oct' });
    const del = await krs.call('DELETE', `/keys/gone${KV}`);
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json()).toMatchObject({ recoveryId: `${ISSUER}/deletedkeys/gone`, key: { kty: 'oct' } });
    expect((await krs.call('GET', `/keys/gone${KV}`)).statusCode).toBe(404);
    expect((await krs.call('GET', `/deletedkeys/gone${KV}`)).json()).toMatchObject({ recoveryId: `${ISSUER}/deletedkeys/gone` });
    expect((await krs.call('GET', `/deletedkeys${KV}`)).json<{ value: unknown[] }>().value).toEqual([expect.objectContaining({ recoveryId: `${ISSUER}/deletedkeys/gone` })]);
    expect((await krs.call('POST', `/deletedkeys/gone/recover${KV}`)).statusCode).toBe(200);
    expect((await krs.call('GET', `/keys/gone${KV}`)).statusCode).toBe(200);
    await krs.call('DELETE', `/keys/gone${KV}`);
    const purge = await krs.call('DELETE', `/deletedkeys/gone${KV}`);
    expect(purge.statusCode).toBe(204);
    expect((await krs.call('GET', `/deletedkeys/gone${KV}`)).statusCode).toBe(404);
  });

  it('records every change in the audit log with the administrator as actor', async () => {
    const res = await krs.call('GET', '/audit?key=model-a');
    const kinds = res.json<{ value: Array<{ kind: string; actor: string }> }>().value.map((e) => `${e.kind}:${e.actor}`);
    expect(kinds).toEqual(['key-created:admin-token', 'key-rotated:admin-token', 'key-disabled:admin-token', 'policy-changed:admin-token', 'key-enabled:admin-token']);
  });
});
