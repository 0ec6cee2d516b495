import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { KrsStartupError } from '../../../src/krs/errors.js';
import { SigningKeyStore, kidOf, rotateSigningKey } from '../../../src/krs/signing-keys.js';
import { ATTEST_URL, type TestApp, removeTempDirs, simulatedRequest, tempDir, testApp } from './fixtures.js';

afterAll(removeTempDirs);

interface Jwks {
  keys: Array<{ kid: string; kty: string; alg: string; use: string; n: string; e: string; x5c: string[] }>;
}

const certs = async (krs: TestApp): Promise<Jwks> => (await krs.app.inject({ method: 'GET', url: '/certs' })).json<Jwks>();

async function token(krs: TestApp): Promise<string> {
  const res = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: await simulatedRequest() });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ token: string }>().token;
}

describe('token-signing keys in the data directory', () => {
  it('are created 0600 on first start and survive a restart: two apps on one directory publish the same key', async () => {
    const dataDir = tempDir();
    const first = await testApp({ dataDir, config: { trustSimulator: true } });
    const issued = await token(first);
    const challenge = first.challenges.issue();
    await first.close();
    expect(statSync(join(dataDir, 'signing-keys.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'nonce.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const second = await testApp({ dataDir, config: { trustSimulator: true } });
    const jwks = await certs(second);
    expect(jwks.keys).toHaveLength(1);
    // A token from the first instance verifies with the second instance's JWKS.
    await jwtVerify(issued, createLocalJWKSet(jwks), { issuer: second.issuer });
    expect(decodeProtectedHeader(await token(second)).kid).toBe(jwks.keys[0]!.kid);
    // A challenge from the first instance is valid on the second: the nonce key persisted too.
    const fresh = await second.app.inject({ method: 'POST', url: ATTEST_URL, payload: await simulatedRequest({ runtime: { nonce: challenge.nonce } }) });
    expect(fresh.statusCode, fresh.body).toBe(200);
    await second.close();
  });

  it('publish kid = base64url(SHA-256(x5c[0] DER)), n/e matching the certificate, x5c in standard base64', async () => {
    const krs = await testApp();
    const [key] = (await certs(krs)).keys;
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(key!.kid).toBe(kidOf(Buffer.from(key!.x5c[0]!, 'base64')));
    expect(key!.x5c[0]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(Buffer.from(key!.x5c[0]!, 'base64'));
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.export({ format: 'jwk' }).n).toBe(key!.n);
    await krs.close();
  });

  it('rotation publishes old and new; new tokens use the new kid; old tokens still verify during the overlap', async () => {
    const krs = await testApp({ config: { trustSimulator: true } });
    const oldToken = await token(krs);
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const rotated = await krs.signingKeys.rotate({ overlapSeconds: 600 });
    expect(rotated.kid).not.toBe(oldKid);
    const jwks = await certs(krs);
    expect(jwks.keys.map((k) => k.kid)).toEqual([rotated.kid, oldKid]);
    const newToken = await token(krs);
    expect(decodeProtectedHeader(newToken).kid).toBe(rotated.kid);
    for (const t of [oldToken, newToken]) await jwtVerify(t, createLocalJWKSet(jwks), { issuer: krs.issuer });
    await krs.close();
  });

  it('a rotated-out key leaves /certs after its overlap and the file; --retire-previous drops it at once', async () => {
    let now = Date.now();
    const dataDir = tempDir();
    const krs = await testApp({ dataDir, clock: () => new Date(now) });
    const first = (await certs(krs)).keys[0]!.kid;
    const second = (await krs.signingKeys.rotate({ overlapSeconds: 60 })).kid;
    expect((await certs(krs)).keys).toHaveLength(2);
    now += 61_000;
    expect((await certs(krs)).keys.map((k) => k.kid)).toEqual([second]);
    const third = await krs.signingKeys.rotate({ overlapSeconds: 60 });
    expect(third.removed).toEqual([first]);
    expect(third.published).toEqual([third.kid, second]);
    const fourth = await krs.signingKeys.rotate({ overlapSeconds: 60, retirePrevious: true });
    expect(fourth.published).toEqual([fourth.kid]);
    expect((await certs(krs)).keys.map((k) => k.kid)).toEqual([fourth.kid]);
    await krs.close();
  });

  it('a rotation by another process (the CLI) reaches a running store within its refresh interval', async () => {
    const dataDir = tempDir();
    const store = await SigningKeyStore.open(dataDir, { keyBits: 2048, refreshIntervalMs: 0 });
    const before = (await store.active()).kid;
    const { kid } = await rotateSigningKey(dataDir, { overlapSeconds: 600 });
    expect((await store.active()).kid).toBe(kid);
    expect((await store.published()).map((k) => k.kid)).toEqual([kid, before]);
  });
});

describe('a damaged key file stops start-up with a clear message and is never replaced', () => {
  const damages: Array<[string, (text: string) => string]> = [
    ['truncated JSON', (t) => t.slice(0, t.length / 2)],
    ['a kid that does not match its certificate', (t) => t.replace(/"kid": "[^"]+"/, '"kid": "AAAA"')],
    ['no active key', (t) => t.replace('"publishUntil": null', '"publishUntil": "2030-01-01T00:00:00.000Z"')],
    ['another format', (t) => t.replace('zt4ai-krs-signing-keys/1', 'something-else')],
  ];
  for (const [label, damage] of damages) {
    it(label, async () => {
      const dataDir = tempDir();
      await SigningKeyStore.open(dataDir, { keyBits: 2048 });
      const path = join(dataDir, 'signing-keys.json');
      const damaged = damage(readFileSync(path, 'utf8'));
      writeFileSync(path, damaged, { mode: 0o600 });
      const failure = await SigningKeyStore.open(dataDir, { keyBits: 2048 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(KrsStartupError);
      expect((failure as KrsStartupError).code).toBe('ERR_SIGNING_KEYS');
      expect((failure as Error).message).toContain(path);
      expect((failure as Error).message).not.toContain('PRIVATE KEY');
      expect(readFileSync(path, 'utf8')).toBe(damaged);
    });
  }

  it('a key file readable by others is refused', async () => {
    const dataDir = tempDir();
    await SigningKeyStore.open(dataDir, { keyBits: 2048 });
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dataDir, 'signing-keys.json'), 0o644);
    await expect(SigningKeyStore.open(dataDir, { keyBits: 2048 })).rejects.toThrow(/chmod 600/);
  });
});
