import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { SignJWT, exportJWK } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { type SimulatedImds, startSimulatedImds } from '../../../simulator/azure/index.js';
import { simulatedRootsPem } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../../src/krs/server.js';
import { removeTempDirs, simRoots, tempDir } from './fixtures.js';
import { TestCredential, teeKey } from './key-fixtures.js';

/**
 * The KRS trusting issuers it does not run: an external attestation service (a fake MAA on loopback whose
 * OpenID metadata names its JWKS at a path of its own) as the authority of release targets, and the
 * simulated IMDS's Entra-style issuer for the callers' bearer tokens, so that a runner-style client, the
 * real `KeyClient.releaseKey` with a real `ManagedIdentityCredential`, is authorised by its managed identity.
 */
const RESOURCE = 'api://zt4ai-krs-external';
const RELEASER = { clientId: 'runner-identity', objectId: 'cccccccc-0000-4000-8000-000000000001', roles: ['keys.release'] };
const BYSTANDER = { clientId: 'other-identity', objectId: 'cccccccc-0000-4000-8000-000000000002' };
const STATIC = randomBytes(24).toString('base64url');
const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
const tee = teeKey();

/** An OpenID issuer on loopback: metadata, JWKS at /discovery/keys (n/e form), and every request counted. */
interface Issuer {
  readonly url: string;
  readonly hits: string[];
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

async function loopback(handler: (req: IncomingMessage, res: ServerResponse, url: string) => void): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  let url = '';
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res, url);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, hits, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

async function issuer(): Promise<Issuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'maa-key-1', alg: 'RS256', use: 'sig' };
  const server = await loopback((req, res, url) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/discovery/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
    if (req.url === '/discovery/keys') return res.end(JSON.stringify({ keys: [jwk] }));
    res.statusCode = 404;
    res.end('{}');
  });
  return {
    ...server,
    sign: (claims, header = { jku: `${server.url}/discovery/keys` }) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT', ...header })
        .setIssuer(server.url)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
  };
}

let imds: SimulatedImds;
let maa: Issuer;
let unknown: Issuer;
let attacker: Awaited<ReturnType<typeof loopback>>;
let krs: KrsServer;
const claims = (): Record<string, unknown> => ({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-sevsnpvm-is-debuggable': false, 'x-ms-runtime': { keys: [tee.publicJwk] } });

beforeAll(async () => {
  imds = await startSimulatedImds({ identities: [RELEASER, BYSTANDER] });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url;
  maa = await issuer();
  unknown = await issuer();
  attacker = await loopback((_req, res) => res.end(JSON.stringify({ keys: [] })));
  const dir = tempDir('external');
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
    adminAuth: { tokenFile: join(dir, 'admin.token'), resource: RESOURCE, jwt: { issuer: imds.issuer } },
  });
  krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())] });
  const admin = new KeyClient(krs.url, new TestCredential(STATIC), { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
  const policy = { version: '1.0.0', anyOf: [{ authority: maa.url, allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: 'false' }] }] };
  await admin.createKey('model-key', 'oct-HSM', { keySize: 256, exportable: true, releasePolicy: { encodedPolicy: new TextEncoder().encode(JSON.stringify(policy)) } });
});
afterAll(async () => {
  if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
  await krs?.close();
  await Promise.all([imds?.close(), maa?.close(), unknown?.close(), attacker?.close()]);
  removeTempDirs();
});

type ErrorBody = { error: { code: string; zt4aiCode: string; message: string } };

async function release(target: string): Promise<{ status: number; body: ErrorBody & { value?: string } }> {
  const res = await request(`${krs.url}/keys/model-key/release?api-version=7.5`, { method: 'POST', headers: { authorization: `Bearer ${STATIC}`, 'content-type': 'application/json' }, body: JSON.stringify({ target }) });
  return { status: res.statusCode, body: (await res.body.json()) as ErrorBody & { value?: string } };
}

describe('release targets of an external issuer', () => {
  it("releases on a configured issuer's token, its keys found through its OpenID metadata (jku equal to the jwks_uri, or absent)", async () => {
    const ca = await (await request(`${krs.url}/release-signer/ca`)).body.text();
    for (const header of [{ jku: `${maa.url}/discovery/keys` }, {}]) {
      const res = await release(await maa.sign(claims(), header));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const opened = await openReleaseResponse({ value: res.body.value! }, { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
      expect(opened.material).toHaveLength(32);
    }
    expect(maa.hits.filter((h) => h === '/.well-known/openid-configuration')).toHaveLength(1);
    expect(maa.hits.filter((h) => h === '/discovery/keys')).toHaveLength(1);
  });

  it('refuses a token whose jku names another key set (ERR_TARGET_JKU_MISMATCH), without ever fetching it', async () => {
    for (const jku of [`${attacker.url}/discovery/keys`, `${maa.url}/certs`, `${maa.url}/discovery/keys?x=1`, 'not a url']) {
      const res = await release(await maa.sign(claims(), { jku }));
      expect(res.status).toBe(403);
      expect(res.body.error.zt4aiCode, jku).toBe('ERR_TARGET_JKU_MISMATCH');
    }
    expect(attacker.hits).toEqual([]);
  });

  it('refuses a token of an issuer that is not configured (ERR_TARGET_UNTRUSTED_ISSUER), fetching nothing from it or its jku', async () => {
    const res = await release(await unknown.sign(claims(), { jku: `${attacker.url}/keys` }));
    expect(res.status).toBe(403);
    expect(res.body.error.zt4aiCode).toBe('ERR_TARGET_UNTRUSTED_ISSUER');
    // The administrators' issuer is not an attestation authority either.
    const imdsToken = (await new ManagedIdentityCredential({ clientId: BYSTANDER.clientId }).getToken('https://attest.example/.default')).token;
    expect((await release(imdsToken)).body.error.zt4aiCode).toBe('ERR_TARGET_UNTRUSTED_ISSUER');
    expect(unknown.hits).toEqual([]);
    expect(attacker.hits).toEqual([]);
  });
});

describe('a runner-style client authenticated by its managed identity', () => {
  const client = (clientId: string) => new KeyClient(krs.url, new ManagedIdentityCredential({ clientId }), { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });

  it('KeyClient.releaseKey with a ManagedIdentityCredential from the simulated IMDS is authorised by its keys.release role', async () => {
    const before = imds.requests.length;
    const { value } = await client(RELEASER.clientId).releaseKey('model-key', await maa.sign(claims()), { algorithm: 'RSA_AES_KEY_WRAP_256' });
    const ca = await (await request(`${krs.url}/release-signer/ca`)).body.text();
    const opened = await openReleaseResponse({ value }, { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
    expect(opened.material).toHaveLength(32);
    // The SDK followed the challenge to the KRS's resource and got the token from IMDS for it.
    expect(imds.requests.slice(before).filter((r) => r.path.startsWith('/metadata/identity'))).toEqual([
      { method: 'GET', path: '/metadata/identity/oauth2/token/', status: 200, metadataHeader: true, resource: RESOURCE, clientId: RELEASER.clientId },
    ]);
    const audit = await request(`${krs.url}/audit?last=1`, { headers: { authorization: `Bearer ${STATIC}` } });
    expect(JSON.stringify(await audit.body.json())).toContain(`jwt:${RELEASER.objectId}`);
  });

  it('refuses an identity without the role (403) and cannot administer keys with the release role', async () => {
    await expect(client(BYSTANDER.clientId).releaseKey('model-key', await maa.sign(claims()))).rejects.toMatchObject({ statusCode: 403 });
    await expect(client(RELEASER.clientId).createKey('nope', 'oct-HSM')).rejects.toMatchObject({ statusCode: 403 });
  });
});
