import { createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyClient } from '@azure/keyvault-keys';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { directKeyUnwrapper, rsaOaepUnwrapper } from '../../../keys/sealing/data-keys.js';
import { memorySink } from '../../../keys/sealing/sinks.js';
import { unsealModel } from '../../../keys/sealing/unseal-model.js';
import { simulatedRootsPem } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../../src/krs/server.js';
import { cli } from '../../helpers/cli.js';
import { cleanupTemp, ecKeyPair, sampleModel, tempDir } from '../../keys/fixtures.js';
import { removeTempDirs, simRoots } from '../krs/fixtures.js';
import { TestCredential, teeEvidence, teeKey } from '../krs/key-fixtures.js';

/**
 * `zt4ai model seal --krs / --akv` against a real listening KRS: the sealed model opens only with the key a
 * TEE obtains by attestation and Secure Key Release, as the runner does.
 */
let krs: KrsServer;
let client: KeyClient;
let dir: string;
let tokenFile: string;
let policyFile: string;
let model: string;

beforeAll(async () => {
  dir = tempDir();
  const token = randomBytes(24).toString('base64url');
  tokenFile = join(dir, 'admin.token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const config = resolveKrsConfig({ listen: '127.0.0.1:0', dataDir: join(dir, 'data'), trustSimulator: true, signingKeyBits: 2048, logLevel: 'silent', adminAuth: { tokenFile } });
  krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())] });
  client = new KeyClient(krs.url, new TestCredential(token), { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
  policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ version: '1.0.0', anyOf: [{ authority: krs.issuer, allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }, { claim: 'x-zt4ai-fresh', equals: true }] }] }));
  model = sampleModel(tempDir());
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
  cleanupTemp();
});

/** A TEE's attestation token from the KRS (fresh, its RSA key in the runtime data), then the key released to it. */
async function releaseToTee(name: string, version: string): Promise<{ kty: string; kid: string; material: Uint8Array }> {
  const tee = teeKey();
  const { nonce } = (await (await request(`${krs.url}/attest/challenge`, { method: 'POST' })).body.json()) as { nonce: string };
  const res = await request(`${krs.url}/attest/SevSnpVm?api-version=2022-08-01`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await teeEvidence({ tee, nonce })) });
  const { token } = (await res.body.json()) as { token: string };
  const released = await client.releaseKey(name, token, { version });
  const ca = await (await request(`${krs.url}/release-signer/ca`)).body.text();
  return openReleaseResponse(released.value, { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
}


describe('zt4ai model seal with a key service', () => {
  const signer = ecKeyPair();

  it('--krs imports a fresh oct-HSM data key under the policy; the released key unseals and verifies', async () => {
    const signKey = join(dir, 'signer.pem');
    writeFileSync(signKey, signer.privatePem);
    const out = join(tempDir(), 'sealed');
    const r = await cli(['model', 'seal', model, '--out', out, '--krs', krs.url, '--key-name', 'model-dk', '--policy', policyFile, '--admin-token-file', tokenFile, '--sign-key', signKey, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const sealed = r.json() as { wrap: string; kid: string };
    expect(sealed.wrap).toBe('dir');
    const key = await client.getKey('model-dk');
    expect(sealed.kid).toBe(key.id);
    expect(key.properties).toMatchObject({ exportable: true });
    expect(key.keyType).toBe('oct-HSM');
    const opened = await releaseToTee('model-dk', key.properties.version!);
    expect(opened.kty).toBe('oct');
    const sink = memorySink();
    const u = await unsealModel(out, { key: directKeyUnwrapper({ [sealed.kid]: opened.material }), sink: sink.factory, threads: 0 });
    expect(u.signed).toBe(true);
    expect(sink.files.size).toBeGreaterThan(0);
    for (const [name, bytes] of sink.files) expect(bytes).toEqual(readFileSync(join(model, name)));
  });

  it('--akv wraps to the public part of an exportable RSA key (here on the KRS); the released private key unseals', async () => {
    const policy = { encodedPolicy: new Uint8Array(readFileSync(policyFile)) };
    const created = await client.createKey('model-rsa', 'RSA-HSM', { keySize: 2048, exportable: true, releasePolicy: policy });
    const out = join(tempDir(), 'sealed');
    const r = await cli(['model', 'seal', model, '--out', out, '--akv', krs.url, '--key-name', 'model-rsa', '--admin-token-file', tokenFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const sealed = r.json() as { wrap: string; kid: string };
    expect(sealed).toMatchObject({ wrap: 'RSA-OAEP-256', kid: created.id });
    const opened = await releaseToTee('model-rsa', created.properties.version!);
    const sink = memorySink();
    const key = createPrivateKey({ key: Buffer.from(opened.material), format: 'der', type: 'pkcs8' });
    await unsealModel(out, { key: rsaOaepUnwrapper(key), sink: sink.factory, threads: 0 });
    for (const [name, bytes] of sink.files) expect(bytes).toEqual(readFileSync(join(model, name)));
  });

  it('--akv refuses a key no runner could obtain (not exportable), exit 1, nothing sealed', async () => {
    await client.createKey('plain-rsa', 'RSA', { keySize: 2048 });
    const out = join(tempDir(), 'sealed');
    const r = await cli(['model', 'seal', model, '--out', out, '--akv', krs.url, '--key-name', 'plain-rsa', '--admin-token-file', tokenFile, '--json']);
    expect(r.code).toBe(1);
    expect((r.json() as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('ERR_KEY_NOT_RELEASABLE');
  });

  it('reports a refusal of the service (exit 1) and usage errors (exit 2)', async () => {
    const missing = await cli(['model', 'seal', model, '--out', join(tempDir(), 's'), '--akv', krs.url, '--key-name', 'no-such-key', '--admin-token-file', tokenFile, '--json']);
    expect(missing.code).toBe(1);
    expect(missing.json()).toMatchObject({ errors: [{ code: 'ERR_KEY_SERVICE_REFUSED', status: 404, zt4aiCode: 'ERR_KEYSTORE_NOT_FOUND' }] });
    for (const args of [
      ['--krs', krs.url, '--key-name', 'x'],
      ['--krs', krs.url, '--akv', krs.url, '--key-name', 'x', '--policy', policyFile],
      ['--akv', krs.url],
      ['--akv', 'http://192.0.2.1:8443', '--key-name', 'x', '--admin-token-file', tokenFile],
      ['--akv', krs.url, '--key-name', 'x', '--kid', 'k'],
    ]) {
      const r = await cli(['model', 'seal', model, '--out', join(tempDir(), 's'), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
