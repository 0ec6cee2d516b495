import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTEST_URL, type ErrorBody, type TestApp, b64u, removeTempDirs, sha256, simulatedRequest, testApp } from './fixtures.js';

let krs: TestApp;
beforeAll(async () => {
  krs = await testApp({ config: { trustSimulator: true } });
});
afterAll(async () => {
  await krs.close();
  removeTempDirs();
});

/** Verifies a token with nothing but what the service publishes: OIDC metadata, then its JWKS. */
async function verifyWithPublishedKeys(app: TestApp['app'], token: string) {
  const oidc = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json<{ issuer: string; jwks_uri: string }>();
  const jwksPath = new URL(oidc.jwks_uri).pathname;
  const jwks = (await app.inject({ method: 'GET', url: jwksPath })).json();
  return jwtVerify(token, createLocalJWKSet(jwks), { issuer: oidc.issuer, algorithms: ['RS256'] });
}

describe('POST /attest/SevSnpVm with simulated evidence (trustSimulator on)', () => {
  it('issues an RS256 token that verifies with only /certs and the OIDC metadata, with MAA-shaped claims', async () => {
    const runtime = { keys: [{ kty: 'RSA', kid: 'k1', e: 'AQAB', n: 'abc' }] };
    const res = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: await simulatedRequest({ runtime, nonce: 'client-nonce-1' }) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { token } = res.json<{ token: string }>();
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', jku: `${krs.issuer}/certs` });
    const { payload } = await verifyWithPublishedKeys(krs.app, token);
    expect(payload).toMatchObject({
      iss: krs.issuer,
      'x-ms-attestation-type': 'sevsnpvm',
      'x-ms-ver': '1.0',
      'x-ms-runtime': runtime,
      nonce: 'client-nonce-1',
      'x-zt4ai-simulated': true,
      'x-zt4ai-fresh': false,
      'x-zt4ai-product': 'Genoa',
      'x-ms-sevsnpvm-vmpl': 0,
      'x-ms-sevsnpvm-is-debuggable': false,
    });
    expect(payload['x-zt4ai-warnings']).toContain('WARN_SIMULATED');
    expect(payload['x-ms-compliance-status']).toBeUndefined();
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.exp).toBe(payload.iat! + 300);
    expect(payload.jti).toMatch(/^[0-9a-f]{64}$/);
    expect(payload['x-ms-sevsnpvm-reportdata']).toBe(Buffer.concat([sha256(Buffer.from(JSON.stringify(runtime))), Buffer.alloc(32)]).toString('hex'));
  });

  it('accepts padded base64url, a numeric nonce (echoed as a string), Binary runtime data and JSON initTimeData', async () => {
    const initTime = { policy: 'cce-policy' };
    const body = await simulatedRequest({ runtime: Buffer.from('raw runtime bytes'), initTime, padded: true, nonce: 12345 });
    expect(JSON.stringify(body)).toContain('=');
    const res = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    const { payload } = await verifyWithPublishedKeys(krs.app, res.json<{ token: string }>().token);
    expect(payload).toMatchObject({ nonce: '12345', 'x-ms-inittime': initTime, 'x-zt4ai-runtime-data': b64u('raw runtime bytes') });
    expect(payload['x-ms-runtime']).toBeUndefined();
    expect(payload['x-ms-sevsnpvm-hostdata']).toBe(sha256(Buffer.from(JSON.stringify(initTime))).toString('hex'));
  });

  it('accepts every MAA api-version and the sidecar\'s "SevSnpVM" spelling', async () => {
    const body = await simulatedRequest();
    for (const url of ['/attest/SevSnpVm?api-version=2020-10-01', '/attest/SevSnpVm?api-version=2025-06-01', '/attest/SevSnpVM?api-version=2020-10-01']) {
      const res = await krs.app.inject({ method: 'POST', url, payload: body });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
  });
});

describe('freshness: POST /attest/challenge', () => {
  it('a challenge nonce in the runtime data gives x-zt4ai-fresh: true, once', async () => {
    const challenge = await krs.app.inject({ method: 'POST', url: '/attest/challenge' });
    expect(challenge.statusCode).toBe(200);
    const { nonce, expiresAt } = challenge.json<{ nonce: string; expiresAt: string }>();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{76}$/);
    const lifetime = Date.parse(expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(100_000);
    expect(lifetime).toBeLessThanOrEqual(120_000);
    const body = await simulatedRequest({ runtime: { nonce, keys: [] } });
    const res = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    const { payload } = await verifyWithPublishedKeys(krs.app, res.json<{ token: string }>().token);
    expect(payload['x-zt4ai-fresh']).toBe(true);
    expect((payload['x-ms-runtime'] as { nonce: string }).nonce).toBe(nonce);
    const replay = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: body });
    expect(replay.statusCode).toBe(403);
    expect(replay.json<ErrorBody>().error.code).toBe('ERR_NONCE_REPLAYED');
  });

  it('requireFreshness refuses runtime data without a nonce', async () => {
    const strict = await testApp({ config: { trustSimulator: true, requireFreshness: true } });
    const res = await strict.app.inject({ method: 'POST', url: ATTEST_URL, payload: await simulatedRequest() });
    expect(res.statusCode).toBe(403);
    expect(res.json<ErrorBody>().error.code).toBe('ERR_NONCE_REQUIRED');
    await strict.close();
  });
});

describe('unknown routes and types', () => {
  it('another attestation type is 404 ERR_ATTESTATION_TYPE_UNSUPPORTED; an unknown path is 404 ERR_NOT_FOUND', async () => {
    const tdx = await krs.app.inject({ method: 'POST', url: '/attest/TdxVm?api-version=2022-08-01', payload: {} });
    expect(tdx.statusCode).toBe(404);
    expect(tdx.json<ErrorBody>().error.code).toBe('ERR_ATTESTATION_TYPE_UNSUPPORTED');
    const none = await krs.app.inject({ method: 'GET', url: '/nope' });
    expect(none.statusCode).toBe(404);
    expect(none.json<ErrorBody>().error.code).toBe('ERR_NOT_FOUND');
  });
});
