import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { generateSigningKey } from '../../../src/krs/signing-key-file.js';
import { type FakeIssuer, fakeIssuer } from './fake-issuer.js';
import { ISSUER, removeTempDirs } from './fixtures.js';
import { KV, type KeyApp, exportableKey, keyApp, policyData, teeKey } from './key-fixtures.js';

/**
 * Release targets from another attestation service (a real MAA instance in production): a fake issuer on
 * 127.0.0.1 with OpenID metadata and an x5c-only JWKS, as MAA publishes them.
 */
let maa: FakeIssuer;
let liar: FakeIssuer;
let krs: KeyApp;
const tee = teeKey();
const maaClaims = (): Record<string, unknown> => ({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-sevsnpvm-is-debuggable': false, 'x-ms-runtime': { keys: [tee.publicJwk] } });

beforeAll(async () => {
  maa = await fakeIssuer();
  liar = await fakeIssuer({ claimIssuer: 'https://someone-else.example' });
  krs = await keyApp({ config: { trustedIssuers: [`${maa.url}/`, { issuer: liar.url, cacheSeconds: 60 }, 'http://127.0.0.1:1'] } });
  const policy = policyData(`${maa.url}/`, [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }]);
  expect((await krs.call('POST', `/keys/maa-key/create${KV}`, exportableKey(policy))).statusCode).toBe(200);
  expect((await krs.call('POST', `/keys/krs-key/create${KV}`, exportableKey(policyData(ISSUER, [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }])))).statusCode).toBe(200);
});
afterAll(async () => {
  await krs?.close();
  await maa?.close();
  await liar?.close();
  removeTempDirs();
});

type ErrorBody = { error: { code: string; zt4aiCode: string; details?: Array<{ code: string; message: string }> } };

describe('trusted issuers', () => {
  it("releases on a trusted issuer's token, verified through its OpenID metadata and x5c JWKS, fetched once and cached", async () => {
    const ca = (await krs.app.inject({ url: '/release-signer/ca' })).body;
    for (let i = 0; i < 3; i++) {
      const res = await krs.call('POST', `/keys/maa-key/release${KV}`, { target: await maa.sign(maaClaims()) });
      expect(res.statusCode, res.body).toBe(200);
      const opened = await openReleaseResponse(res.json<{ value: string }>(), { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
      expect(opened.material).toHaveLength(32);
    }
    expect(maa.hits.get('/.well-known/openid-configuration')).toBe(1);
    expect(maa.hits.get('/certs')).toBe(1);
  });

  it("refuses a trusted issuer's token for a key whose policy names only this KRS, saying no authority matched", async () => {
    const res = await krs.call('POST', `/keys/krs-key/release${KV}`, { target: await maa.sign(maaClaims()) });
    expect(res.statusCode).toBe(403);
    const error = res.json<ErrorBody>().error;
    expect(error.zt4aiCode).toBe('ERR_RELEASE_POLICY_DENIED');
    expect(error.details).toEqual([{ code: 'ERR_POLICY_AUTHORITY_MISMATCH', message: `no authority of the policy is the token issuer ${maa.url}` }]);
  });

  it('refuses a token signed by a key the issuer does not publish, and an expired one', async () => {
    const rogue = { ...(await generateSigningKey(2048, new Date())), privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
    const forged = await krs.call('POST', `/keys/maa-key/release${KV}`, { target: await maa.sign(maaClaims(), { key: rogue }) });
    expect(forged.json<ErrorBody>().error.zt4aiCode).toBe('ERR_TARGET_SIGNATURE');
    const expired = await krs.call('POST', `/keys/maa-key/release${KV}`, { target: await maa.sign(maaClaims(), { lifetimeSeconds: -60 }) });
    expect(expired.json<ErrorBody>().error.zt4aiCode).toBe('ERR_TARGET_EXPIRED');
  });

  it('answers 502 ERR_ISSUER_UNAVAILABLE (AKV.SKR.1012) when metadata names another issuer or the issuer is down', async () => {
    const lying = await krs.call('POST', `/keys/maa-key/release${KV}`, { target: await liar.sign(maaClaims()) });
    expect(lying.statusCode).toBe(502);
    expect(lying.json<ErrorBody>().error).toMatchObject({ code: 'BadGateway', zt4aiCode: 'ERR_ISSUER_UNAVAILABLE' });
    const claims = { ...maaClaims(), iss: 'http://127.0.0.1:1' };
    const down = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setExpirationTime('5m').sign(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const res = await krs.call('POST', `/keys/maa-key/release${KV}`, { target: down });
    expect(res.statusCode).toBe(502);
  });

  it('refuses plain-http trusted issuers off loopback at start-up', async () => {
    await expect(keyApp({ config: { trustedIssuers: ['http://maa.example.com'] } })).rejects.toThrow(/must be https/);
  });
});
