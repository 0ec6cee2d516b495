import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyClient } from '@azure/keyvault-keys';
import { decodeJwt } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../keys/release/index.js';
import { simulatedRootsPem } from '../../simulator/index.js';
import { resolveKrsConfig } from '../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../src/krs/server.js';
import { removeTempDirs, simRoots, tempDir } from '../src/krs/fixtures.js';
import { TestCredential, teeEvidence, teeKey } from '../src/krs/key-fixtures.js';

/**
 * Issue 4's first acceptance test, over real sockets on 127.0.0.1: the unchanged `@azure/keyvault-keys`
 * KeyClient, with a credential of @azure/identity's TokenCredential interface, creates a key with a release
 * policy on the KRS; a TEE attests with the KRS (simulated evidence whose runtime data carries its RSA key,
 * bound to a challenge nonce); `releaseKey` returns a value that the runner's `openReleaseResponse` opens
 * with the TEE private key, trusting only the release CA the KRS publishes.
 */
let krs: KrsServer;
let client: KeyClient;
let credential: TestCredential;

beforeAll(async () => {
  const dir = tempDir('e2e-release');
  const token = randomBytes(24).toString('base64url');
  writeFileSync(join(dir, 'admin.token'), token, { mode: 0o600 });
  const config = resolveKrsConfig({ listen: '127.0.0.1:0', dataDir: join(dir, 'data'), trustSimulator: true, signingKeyBits: 2048, logLevel: 'silent', adminAuth: { tokenFile: join(dir, 'admin.token') } });
  krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())] });
  credential = new TestCredential(token);
  client = new KeyClient(krs.url, credential, { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
});

/** The TEE side: challenge, evidence with its key in the runtime data, token from the KRS's attest endpoint. */
async function attestTee(): Promise<{ tee: ReturnType<typeof teeKey>; token: string }> {
  const tee = teeKey();
  const challenge = await request(`${krs.url}/attest/challenge`, { method: 'POST' });
  const { nonce } = (await challenge.body.json()) as { nonce: string };
  const res = await request(`${krs.url}/attest/SevSnpVm?api-version=2022-08-01`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await teeEvidence({ tee, nonce })) });
  expect(res.statusCode).toBe(200);
  return { tee, token: ((await res.body.json()) as { token: string }).token };
}

function policy(): { encodedPolicy: Uint8Array } {
  const doc = { version: '1.0.0', anyOf: [{ authority: krs.issuer, allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }, { claim: 'x-zt4ai-fresh', equals: true }] }] };
  return { encodedPolicy: new TextEncoder().encode(JSON.stringify(doc)) };
}

describe('KeyClient -> KRS -> runner', () => {
  it('creates a key with a release policy, releases it to an attested TEE, and the runner opens it', async () => {
    const created = await client.createKey('model-key', 'oct-HSM', { keySize: 256, exportable: true, releasePolicy: policy() });
    expect(created.properties.exportable).toBe(true);
    expect(credential.scopes).toContain('api://zt4ai-krs/.default');
    const { tee, token } = await attestTee();
    expect(decodeJwt(token)['x-zt4ai-fresh']).toBe(true);
    const nonce = randomBytes(12).toString('base64url');
    const released = await client.releaseKey('model-key', token, { algorithm: 'RSA_AES_KEY_WRAP_256', nonce });
    const ca = await (await request(`${krs.url}/release-signer/ca`)).body.text();
    const opened = await openReleaseResponse(released.value, { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca], expectedKid: `${krs.url}/keys/model-key`, expectedNonce: nonce });
    expect(opened).toMatchObject({ kty: 'oct', enc: 'RSA_AES_KEY_WRAP_256', kid: created.id });
    expect(opened.material).toHaveLength(32);
  });

  it('releases an RSA-HSM key (PKCS#8 matching the public part) by version with the default enc', async () => {
    const created = await client.createKey('rsa-key', 'RSA-HSM', { keySize: 2048, exportable: true, releasePolicy: policy() });
    const { tee, token } = await attestTee();
    const released = await client.releaseKey('rsa-key', token, { version: created.properties.version! });
    const ca = await (await request(`${krs.url}/release-signer/ca`)).body.text();
    const opened = await openReleaseResponse(released.value, { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
    expect(opened.enc).toBe('CKM_RSA_AES_KEY_WRAP');
    const pub = createPublicKey(createPrivateKey({ key: opened.material, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
    expect(Buffer.from(pub.n!, 'base64url')).toEqual(Buffer.from(created.key!.n!));
  });

  it("a denial reaches the SDK as Key Vault's 403", async () => {
    await client.updateKeyProperties('model-key', { enabled: false });
    const { token } = await attestTee();
    await expect(client.releaseKey('model-key', token)).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
  });
});
