import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDemoModel } from '../../enclave-runner/backends/ngram/demo-model.js';
import { resolveRunnerConfig } from '../../enclave-runner/config/load.js';
import type { KeySourceConfig } from '../../enclave-runner/config/types.js';
import { verifySealedSignature } from '../../enclave-runner/startup/model-signature.js';
import { memoryStore } from '../../enclave-runner/startup/plaintext.js';
import { releaseModelKey, releaseSignerHost } from '../../enclave-runner/startup/release-client.js';
import { type TeeKey, generateTeeKey } from '../../enclave-runner/startup/tee-key.js';
import { unsealInto } from '../../enclave-runner/startup/unseal.js';
import { type ReleaseSigner, buildReleaseResponse, chainToPem, createReleaseCa, createReleaseSigner } from '../../keys/release/index.js';
import { sealModel } from '../../keys/sealing/seal-model.js';
import { runnerFailure } from './runner-failure.js';

/**
 * The release step against a local fake Key Vault: Key Vault's bearer challenge, then a real
 * buildReleaseResponse value for the TEE key named in the target. Covers what the KRS tests do not:
 * an `oct` key that is the model's data key itself (`dir` containers), and responses that must not verify.
 */
type Mode = 'ok' | 'deny' | 'auth' | 'fail' | 'wrong-nonce' | 'other-key' | 'other-tee';

let server: Server;
let url = '';
let mode: Mode = 'ok';
let signer: ReleaseSigner;
let caPem = '';
const material = randomBytes(32);
const VERSION = '0123456789abcdef0123456789abcdef';
let tee: TeeKey;
let otherTee: TeeKey;
const dir = mkdtempSync(join(tmpdir(), 'zt4ai-release-'));
const credential: TokenCredential = { getToken: async () => ({ token: 'test-token-0123456789', expiresOnTimestamp: Date.now() + 3_600_000 }) };

beforeAll(async () => {
  const ca = await createReleaseCa();
  signer = await createReleaseSigner({ hostnames: [] }, ca);
  caPem = chainToPem([ca.certificate]);
  [tee, otherTee] = await Promise.all([generateTeeKey(2048), generateTeeKey(2048)]);
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  for await (const c of req) body += c;
  const reply = (status: number, json: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(json));
  };
  if (!req.headers.authorization || mode === 'auth') {
    reply(401, { error: { code: 'Unauthorized', message: 'Request is missing a Bearer or PoP token.' } }, { 'www-authenticate': `Bearer authorization="${url}/tenant", resource="api://zt4ai-test"` });
    return;
  }
  if (mode === 'fail') return reply(500, { error: { code: 'InternalServerError', message: 'boom' } });
  if (mode === 'deny') {
    return reply(403, { error: { code: 'Forbidden', message: 'Target environment attestation statement cannot be verified.', innererror: { code: 'AccessDenied' }, zt4aiCode: 'ERR_RELEASE_POLICY_DENIED', details: [{ code: 'ERR_POLICY_CLAUSE_FAILED', message: '✗ x-ms-sevsnpvm-is-debuggable equals false: actual true' }] } });
  }
  const request = JSON.parse(body) as { target: string; nonce?: string; enc?: string };
  const claims = JSON.parse(Buffer.from(request.target.split('.')[1]!, 'base64url').toString()) as { 'x-ms-runtime': { keys: Array<Record<string, unknown>> } };
  const teeKey = mode === 'other-tee' ? otherTee.publicJwk : (claims['x-ms-runtime'].keys[0] as never);
  const name = mode === 'other-key' ? 'another-key' : 'model-key';
  const bundle = { key: { kid: `${url}/keys/${name}/${VERSION}`, kty: 'oct-HSM', key_ops: [] }, attributes: { created: 1, enabled: true, exportable: true, recoverableDays: 90, recoveryLevel: 'Recoverable+Purgeable', updated: 1 } };
  const nonce = mode === 'wrong-nonce' ? 'not-the-nonce' : request.nonce;
  reply(200, await buildReleaseResponse({ signer, bundle, material, teeKey, request: { apiVersion: '7.5', enc: request.enc, nonce } }));
}

/** A release target as Key Vault sees it: a JWT whose x-ms-runtime names the TEE key (unsigned here: the fake does not check it). */
function target(): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64({ iss: url, 'x-ms-runtime': { keys: [tee.publicJwk] } })}.`;
}

async function keySource(extra: Record<string, unknown> = {}): Promise<KeySourceConfig> {
  const c = await resolveRunnerConfig(
    { attestation: { url }, keySource: { url: `${url}/keys/model-key`, tokenFile: 'x', releaseSigner: { pinnedSha256: ['00'.repeat(32)] }, ...extra }, sealedModel: { path: 's' }, trustedSigners: [{ publicKeyPem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) }] },
    dir,
  );
  return c.keySource;
}

async function release(m: Mode, trust: { trustedRoots?: string[]; pinnedCertificates?: string[] } = { trustedRoots: [caPem] }): Promise<Awaited<ReturnType<typeof releaseModelKey>>> {
  mode = m;
  return releaseModelKey({ config: await keySource(), version: null, credential, target: target(), tee, trust });
}

describe('releasing the model key through KeyClient.releaseKey', () => {
  it('verifies the JWS against the trusted CA, checks the nonce and the TEE binding, and unwraps an oct key', async () => {
    const opened = await release('ok');
    expect([opened.kty, opened.kid, opened.material.equals(material)]).toEqual(['oct', `${url}/keys/model-key/${VERSION}`, true]);
  });

  it.each([
    ['deny', 'ERR_RUNNER_RELEASE_DENIED', 'ERR_RELEASE_POLICY_DENIED'],
    ['auth', 'ERR_RUNNER_RELEASE_AUTH', 'Unauthorized'],
    ['fail', 'ERR_RUNNER_RELEASE_UNAVAILABLE', 'InternalServerError'],
    ['wrong-nonce', 'ERR_RUNNER_RELEASE_INVALID', 'ERR_RELEASE_NONCE'],
    ['other-tee', 'ERR_RUNNER_RELEASE_INVALID', 'ERR_RELEASE_BINDING'],
    ['other-key', 'ERR_RUNNER_RELEASE_INVALID', undefined],
  ] as const)('%s: %s (%s)', async (m, code, reason) => {
    const err = await runnerFailure(release(m));
    expect([err.code, err.reason?.code]).toEqual([code, reason]);
    // Nothing in the error or its cause chain carries the bearer credential or the attestation token.
    const chain: unknown[] = [];
    for (let c: unknown = err; c; c = (c as { cause?: unknown }).cause) chain.push(c);
    const printed = chain.map((c) => `${String(c)} ${JSON.stringify(c, Object.getOwnPropertyNames(c))}`).join('\n');
    expect(printed).not.toContain('test-token-0123456789');
    expect(printed).not.toContain(target().split('.')[1]!);
  });

  it('refuses a response whose chain reaches neither the trusted root nor a pin', async () => {
    const other = chainToPem([(await createReleaseCa()).certificate]);
    expect((await runnerFailure(release('ok', { trustedRoots: [other] }))).reason?.code).toBe('ERR_RELEASE_UNTRUSTED');
    const pinned = await release('ok', { pinnedCertificates: [sha256(signer.chain[1]!)] });
    expect(pinned.kty).toBe('oct');
  });

  it('reports an unreachable key service as unavailable', async () => {
    const err = await runnerFailure(releaseModelKey({ config: { ...(await keySource()), vaultUrl: 'http://127.0.0.1:9' }, version: null, credential, target: target(), tee, trust: { trustedRoots: [caPem] } }));
    expect(err.code).toBe('ERR_RUNNER_RELEASE_UNAVAILABLE');
  });
});

describe('which host an Azure release signature must name', () => {
  it('is the vault or managed HSM host for Azure, and none for a KRS', () => {
    expect(releaseSignerHost('https://My-Vault.vault.azure.net/keys/k')).toBe('my-vault.vault.azure.net');
    expect(releaseSignerHost('https://hsm1.managedhsm.azure.net')).toBe('hsm1.managedhsm.azure.net');
    expect(releaseSignerHost('https://kv.vault.usgovcloudapi.net')).toBe('kv.vault.usgovcloudapi.net');
    expect(releaseSignerHost('http://127.0.0.1:8443')).toBeNull();
    expect(releaseSignerHost('https://vault.azure.net.evil.example')).toBeNull();
  });
});

describe('unsealing with the released key, per the containers\' wrap', () => {
  const signerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signers = [{ publicKeyPem: signerKey.publicKey.export({ type: 'spki', format: 'pem' }).toString() }];

  async function sealedDir(name: string, kid: string): Promise<string> {
    const model = join(dir, `${name}-model`);
    await makeDemoModel(model);
    const out = join(dir, name);
    await sealModel(model, { outDir: out, key: { direct: { kid, dataKey: material } }, sign: { privateKey: signerKey.privateKey }, threads: 0 });
    return out;
  }

  it('an oct key is the data key of `dir` containers sealed to that key (versionless reference)', async () => {
    const out = await sealedDir('sealed-dir', `${url}/keys/model-key`);
    const opened = await release('ok');
    const store = memoryStore();
    const unsealed = await unsealInto(out, opened, await verifySealedSignature(out, signers), store, 0);
    expect(unsealed.files.map((f) => f.name).sort()).toEqual(['MODEL_CARD.md', 'ngram.json']);
    expect((await store.read('ngram.json')).toString()).toMatch(/^\{"format":"zt4ai-ngram\/1"/);
    await store.wipe();
  });

  it('containers sealed to another key name are refused: ERR_RUNNER_UNSEAL_KEY (ERR_KEY_NOT_AVAILABLE)', async () => {
    const out = await sealedDir('sealed-other-name', `${url}/keys/some-other-key`);
    const err = await runnerFailure(unsealInto(out, await release('ok'), await verifySealedSignature(out, signers), memoryStore(), 0));
    expect([err.code, err.reason?.code]).toEqual(['ERR_RUNNER_UNSEAL_KEY', 'ERR_KEY_NOT_AVAILABLE']);
  });

  it('an unsigned or untrusted model.sig is refused before anything is decrypted', async () => {
    const out = await sealedDir('sealed-untrusted', `${url}/keys/model-key`);
    const other = [{ publicKeyPem: generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }];
    expect((await runnerFailure(verifySealedSignature(out, other))).reason?.code).toBe('ERR_SIG_KEY_MISMATCH');
    rmSync(join(out, 'model.sig'));
    expect((await runnerFailure(verifySealedSignature(out, signers))).code).toBe('ERR_RUNNER_MODEL_SIGNATURE');
  });
});

function sha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}
