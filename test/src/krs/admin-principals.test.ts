import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { type SimulatedImds, startSimulatedImds } from '../../../simulator/azure/index.js';
import { simulatedRootsPem } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../../src/krs/server.js';
import { removeTempDirs, simRoots, tempDir } from './fixtures.js';
import { type FakeIssuer, fakeIssuer } from './fake-issuer.js';
import { TestCredential, teeKey } from './key-fixtures.js';

/**
 * adminAuth.jwt.principals: a managed identity named by its object id gets `keys.release` without any app role in
 * its token, which is what bicep/krs.bicep writes for the runner's identity (Entra ID puts app roles in a managed
 * identity's token only after an app-role assignment through Microsoft Graph). The callers are real
 * `ManagedIdentityCredential`s against the simulated IMDS; neither identity carries a `roles` claim.
 */
const RESOURCE = 'api://zt4ai-krs-principals';
const RUNNER = { clientId: 'runner-identity', objectId: 'dddddddd-0000-4000-8000-000000000001' };
const OTHER = { clientId: 'other-identity', objectId: 'dddddddd-0000-4000-8000-000000000002' };
const STATIC = randomBytes(24).toString('base64url');
const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
const tee = teeKey();

let imds: SimulatedImds;
let krs: KrsServer;
/** The authority of release targets: an OpenID issuer on loopback whose tokens the KRS is told to trust. */
let maa: FakeIssuer;

const target = () => maa.sign({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [tee.publicJwk] } });
const client = (clientId: string) => new KeyClient(krs.url, new ManagedIdentityCredential({ clientId }), { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });

beforeAll(async () => {
  imds = await startSimulatedImds({ identities: [RUNNER, OTHER] });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url;
  maa = await fakeIssuer();
  const dir = tempDir('principals');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'admin.token'), STATIC, { mode: 0o600 });
  const config = resolveKrsConfig({
    listen: '127.0.0.1:0',
    dataDir: join(dir, 'data'),
    trustSimulator: true,
    signingKeyBits: 2048,
    logLevel: 'silent',
    rateLimit: false,
    trustedIssuers: [maa.url],
    // As krs.bicep writes it: Entra's login authority in the challenge, the issuer without its trailing "/".
    adminAuth: { tokenFile: join(dir, 'admin.token'), resource: RESOURCE, authority: `https://login.microsoftonline.com/${imds.tenantId}`, jwt: { issuer: imds.issuer.replace(/\/$/, ''), principals: [{ oid: RUNNER.objectId.toUpperCase(), roles: ['keys.release'] }] } },
  });
  krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())] });
  const admin = new KeyClient(krs.url, new TestCredential(STATIC), { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
  const policy = { version: '1.0.0', anyOf: [{ authority: maa.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
  await admin.createKey('model-key', 'oct-HSM', { keySize: 256, exportable: true, releasePolicy: { encodedPolicy: new TextEncoder().encode(JSON.stringify(policy)) } });
});

afterAll(async () => {
  if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
  await krs?.close();
  await Promise.all([imds?.close(), maa?.close()]);
  removeTempDirs();
});

describe('adminAuth.jwt.principals', () => {
  it("releases to the mapped identity's token, which carries no roles claim", async () => {
    const before = imds.requests.length;
    const { value } = await client(RUNNER.clientId).releaseKey('model-key', await target(), { algorithm: 'RSA_AES_KEY_WRAP_256' });
    const ca = await (await request(`${krs.url}/release-signer/ca`)).body.text();
    const opened = await openReleaseResponse({ value }, { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
    expect(opened.material).toHaveLength(32);
    const tokens = imds.requests.slice(before).filter((r) => r.path.startsWith('/metadata/identity'));
    expect(tokens.map((r) => [r.status, r.resource, r.clientId])).toEqual([[200, RESOURCE, RUNNER.clientId]]);
    const audit = await request(`${krs.url}/audit?last=1`, { headers: { authorization: `Bearer ${STATIC}` } });
    expect(JSON.stringify(await audit.body.json())).toContain(`jwt:${RUNNER.objectId}`);
  });

  it('refuses another identity of the same issuer (403), and gives the mapped one no role it was not granted', async () => {
    await expect(client(OTHER.clientId).releaseKey('model-key', await target())).rejects.toMatchObject({ statusCode: 403 });
    await expect(client(RUNNER.clientId).createKey('nope', 'oct-HSM')).rejects.toMatchObject({ statusCode: 403 });
    await expect(client(RUNNER.clientId).getKey('model-key')).rejects.toMatchObject({ statusCode: 403 });
  });

  it("refuses the mapped identity's token for another audience (401)", async () => {
    const token = (await new ManagedIdentityCredential({ clientId: RUNNER.clientId }).getToken('https://storage.azure.com/.default')).token;
    const res = await request(`${krs.url}/keys/model-key/release?api-version=7.5`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ target: await target() }) });
    expect(res.statusCode).toBe(401);
    await res.body.dump();
  });
});

describe('adminAuth.jwt.principals validation', () => {
  const resolve = (principals: unknown) => () => resolveKrsConfig({ adminAuth: { jwt: { issuer: 'https://sts.windows.net/tenant', principals } } });
  it.each([
    ['a string', 'not-a-list', /adminAuth\.jwt\.principals must be a list/],
    ['an entry that is not an object', ['x'], /adminAuth\.jwt\.principals\[0\] must be an object/],
    ['an oid that is not a UUID', [{ oid: 'runner', roles: ['keys.release'] }], /adminAuth\.jwt\.principals\[0\]\.oid must be an object id/],
    ['no roles', [{ oid: RUNNER.objectId, roles: [] }], /adminAuth\.jwt\.principals\[0\]\.roles must be a non-empty list/],
    ['an unknown role', [{ oid: RUNNER.objectId, roles: ['keys.releas'] }], /adminAuth\.jwt\.principals\[0\]\.roles: "keys\.releas" is not one of/],
    ['an unknown key', [{ oid: RUNNER.objectId, roles: ['keys.release'], xms_mirid: '/x' }], /adminAuth\.jwt\.principals\[0\]/],
    ['a repeated oid', [{ oid: RUNNER.objectId, roles: ['keys.release'] }, { oid: RUNNER.objectId.toUpperCase(), roles: ['audit.read'] }], /adminAuth\.jwt\.principals\[1\]\.oid repeats/],
  ])('refuses %s (ERR_CONFIG naming the setting)', (_what, principals, message) => {
    expect(resolve(principals)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringMatching(message) }));
  });

  it('defaults to none and normalises the object id', () => {
    expect(resolveKrsConfig({ adminAuth: { jwt: { issuer: 'https://sts.windows.net/tenant' } } }).adminAuth.jwt?.principals).toBeUndefined();
    const jwt = resolveKrsConfig({ adminAuth: { jwt: { issuer: 'https://sts.windows.net/tenant', principals: [{ oid: RUNNER.objectId.toUpperCase(), roles: ['keys.release', 'keys.release'] }] } } }).adminAuth.jwt;
    expect(jwt?.principals).toEqual([{ oid: RUNNER.objectId, roles: ['keys.release'] }]);
  });
});
