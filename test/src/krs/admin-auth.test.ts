import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyClient } from '@azure/keyvault-keys';
import { SignJWT, exportJWK } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedRootsPem } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../../src/krs/server.js';
import { removeTempDirs, simRoots, tempDir } from './fixtures.js';
import { TestCredential, teeEvidence, teeKey } from './key-fixtures.js';

/**
 * Administrators with tokens of an OpenID issuer (Entra ID in production; a test issuer here, its JWKS in a
 * file): the real KeyClient follows Key Vault's challenge, asks the credential for `<resource>/.default`, and
 * each zt4ai role opens exactly its operations. The static administrator token works beside it.
 */
const AUTHORITY = 'https://login.test.example/tenant-1';
const RESOURCE = 'api://zt4ai-krs-test';
const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
const STATIC = randomBytes(24).toString('base64url');
let krs: KrsServer;

async function jwt(roles: string[], o: { aud?: string; iss?: string; exp?: string | number; key?: typeof signer.privateKey } = {}): Promise<string> {
  return new SignJWT({ roles, oid: `user-${roles.join('+') || 'none'}` })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-1' })
    .setIssuer(o.iss ?? AUTHORITY)
    .setAudience(o.aud ?? RESOURCE)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '10m')
    .sign(o.key ?? signer.privateKey);
}

function client(credential: TestCredential): KeyClient {
  return new KeyClient(krs.url, credential, { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
}

const policy = (): Uint8Array => new TextEncoder().encode(JSON.stringify({ version: '1.0.0', anyOf: [{ authority: krs.issuer, allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }] }] }));

beforeAll(async () => {
  const dir = tempDir('auth');
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(signer.publicKey)), kid: 'test-1', alg: 'RS256' }] }));
  writeFileSync(join(dir, 'admin.token'), STATIC, { mode: 0o600 });
  const config = resolveKrsConfig({
    listen: '127.0.0.1:0',
    dataDir: join(dir, 'data'),
    trustSimulator: true,
    signingKeyBits: 2048,
    logLevel: 'silent',
    rateLimit: false,
    adminAuth: { tokenFile: join(dir, 'admin.token'), resource: RESOURCE, jwt: { issuer: AUTHORITY, jwksFile } },
  });
  krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())] });
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
});

describe('administrators with JWTs of the configured issuer', () => {
  it('challenge names the issuer and resource; the SDK asks for <resource>/.default and a keys.admin token creates keys', async () => {
    const res = await request(`${krs.url}/keys?api-version=7.5`);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer authorization="${AUTHORITY}", resource="${RESOURCE}"`);
    await res.body.dump();
    const admin = new TestCredential(() => jwt(['keys.admin']));
    const key = await client(admin).createKey('jwt-key', 'oct-HSM', { exportable: true, keySize: 256, releasePolicy: { encodedPolicy: policy() } });
    expect(key.properties.exportable).toBe(true);
    expect(admin.scopes[0]).toBe(`${RESOURCE}/.default`);
    const names: string[] = [];
    for await (const p of client(admin).listPropertiesOfKeys()) names.push(p.name);
    expect(names).toContain('jwt-key');
  });

  it('a keys.release token releases but cannot administer (403 ForbiddenByRbac)', async () => {
    const releaser = client(new TestCredential(() => jwt(['keys.release'])));
    await expect(releaser.createKey('nope', 'oct-HSM')).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
    const tee = teeKey();
    const attested = await request(`${krs.url}/attest/SevSnpVm?api-version=2022-08-01`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await teeEvidence({ tee })) });
    const { token } = (await attested.body.json()) as { token: string };
    const released = await releaser.releaseKey('jwt-key', token, { algorithm: 'RSA_AES_KEY_WRAP_256' });
    expect(released.value.split('.')).toHaveLength(3);
    const admin = client(new TestCredential(() => jwt(['keys.admin'])));
    await expect(admin.releaseKey('jwt-key', token)).rejects.toMatchObject({ statusCode: 403 });
  });

  it('an audit.read token reads the audit log (release recorded with the JWT subject) and nothing else', async () => {
    const auditor = await jwt(['audit.read']);
    const res = await request(`${krs.url}/audit?key=jwt-key`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(res.statusCode).toBe(200);
    const entries = ((await res.body.json()) as { value: Array<{ kind: string; actor: string }> }).value;
    expect(entries.map((e) => `${e.kind} ${e.actor}`)).toEqual(['key-created jwt:user-keys.admin', 'release-allowed jwt:user-keys.release']);
    const keys = await request(`${krs.url}/keys?api-version=7.5`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(keys.statusCode).toBe(403);
    expect(((await keys.body.json()) as { error: { innererror: { code: string } } }).error.innererror.code).toBe('ForbiddenByRbac');
  });

  it('refuses expired tokens, other audiences, other issuers and other signers (401, challenge again)', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const bad = [await jwt(['keys.admin'], { exp: Math.floor(Date.now() / 1000) - 120 }), await jwt(['keys.admin'], { aud: 'api://other' }), await jwt(['keys.admin'], { iss: 'https://login.test.example/tenant-2' }), await jwt(['keys.admin'], { key: other })];
    for (const token of bad) {
      const res = await request(`${krs.url}/keys?api-version=7.5`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer authorization=/);
      expect(((await res.body.json()) as { error: { zt4aiCode: string } }).error.zt4aiCode).toBe('ERR_AUTH_INVALID');
    }
  });

  it('the static administrator token (static-token TokenCredential) has every role', async () => {
    const admin = client(new TestCredential(STATIC));
    const rotated = await admin.rotateKey('jwt-key');
    expect(rotated.properties.version).toMatch(/^[0-9a-f]{32}$/);
    const res = await request(`${krs.url}/audit?last=1`, { headers: { authorization: `Bearer ${STATIC}` } });
    expect(((await res.body.json()) as { value: Array<{ kind: string; actor: string }> }).value[0]).toMatchObject({ kind: 'key-rotated', actor: 'admin-token' });
  });
});
