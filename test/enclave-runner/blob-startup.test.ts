import { closeSync, cpSync, mkdirSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerError } from '../../enclave-runner/errors.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import { type SimulatedBlobStorage, type SimulatedImds, startSimulatedBlobStorage, startSimulatedImds } from '../../simulator/azure/index.js';
import { type Stack, startStack } from './stack.js';

/**
 * The runner with `sealedModel.kind: "azure-blob"`, as the Bicep templates configure it: the sealed model is
 * downloaded from the simulated Blob Storage with a real ManagedIdentityCredential (simulated IMDS through
 * AZURE_POD_IDENTITY_AUTHORITY_HOST, the SDK's own override), then attested, released, verified and unsealed
 * as from a directory.
 */
const RUNNER = { clientId: 'runner-vm-identity', objectId: 'bbbbbbbb-0000-4000-8000-000000000001' };
const OUTSIDER = { clientId: 'unrelated-identity', objectId: 'bbbbbbbb-0000-4000-8000-000000000002' };
const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
let stack: Stack;
let imds: SimulatedImds;
let blob: SimulatedBlobStorage;
let downloads: string;
const runners: RunningRunner[] = [];

beforeAll(async () => {
  stack = await startStack();
  const root = join(stack.dir, 'account');
  cpSync(stack.sealedDir, join(root, 'models', 'model'), { recursive: true });
  cpSync(stack.sealedDir, join(root, 'models', 'tampered'), { recursive: true });
  const fd = openSync(join(root, 'models', 'tampered', 'ngram.json.sealed'), 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 1000);
  b[0]! ^= 0x80;
  writeSync(fd, b, 0, 1, 1000);
  closeSync(fd);
  downloads = join(stack.dir, 'downloads');
  mkdirSync(downloads);
  imds = await startSimulatedImds({ identities: [RUNNER, OUTSIDER] });
  blob = await startSimulatedBlobStorage({ root, issuer: imds.issuer, jwksUri: imds.jwksUri, readers: [RUNNER.objectId] });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url;
});
afterAll(async () => {
  for (const r of runners) await r.stop();
  if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
  await blob?.close();
  await imds?.close();
  await stack?.close();
});

async function launch(prefix: string, clientId: string): Promise<RunningRunner> {
  const sealedModel = { kind: 'azure-blob', url: `${blob.accountUrl}/models/${prefix}/`, managedIdentityClientId: clientId, path: downloads };
  const runner = await launchRunner(await stack.config({ sealedModel }));
  runners.push(runner);
  return runner;
}

const failure = (runner: RunningRunner): Promise<RunnerError> =>
  runner.ready.then(
    () => {
      throw new Error('start-up should have failed');
    },
    (e: unknown) => e as RunnerError,
  );

describe('a runner whose sealed model is in Blob Storage', () => {
  it('downloads it with its managed identity, then attests, obtains the key, verifies, unseals and serves; the download is removed', async () => {
    const runner = await launch('model', RUNNER.clientId);
    await runner.ready;
    const status = runner.status();
    expect(status.state).toBe('serving');
    expect(status.steps.map((s) => [s.name, s.ok])).toEqual(['model-download', 'tee-key', 'evidence', 'attest', 'release', 'model-signature', 'unseal', 'load-model', 'serve'].map((n) => [n, true]));
    expect(status.steps[0]!.detail).toMatchObject({ from: `${blob.accountUrl}/models/model/`, files: 3, skipped: 0 });
    expect(status.model).toMatchObject({ keyId: stack.keyId, files: 2 });
    expect(readdirSync(downloads)).toEqual([]);
    const answer = await fetch(`${runner.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'zt4ai-model', messages: [{ role: 'user', content: 'What is a confidential VM?' }], max_tokens: 16 }) });
    expect(answer.status).toBe(200);
    expect(imds.requests.some((r) => r.resource === 'https://storage.azure.com' && r.clientId === RUNNER.clientId && r.status === 200)).toBe(true);
  });

  it('stops at model-download, before any attestation, when its identity may not read the container', async () => {
    const runner = await launch('model', OUTSIDER.clientId);
    const err = await failure(runner);
    expect(err).toMatchObject({ code: 'ERR_RUNNER_BLOB_AUTH', step: 'model-download' });
    const steps = runner.status().steps;
    expect(steps.map((s) => [s.name, s.state])).toEqual([
      ['model-download', 'failed'],
      ...['tee-key', 'evidence', 'attest', 'release', 'model-signature', 'unseal', 'load-model', 'serve'].map((n) => [n, 'pending']),
    ]);
    expect(JSON.stringify(runner.status())).not.toMatch(/eyJ/);
  });

  it('refuses a tampered container from Blob Storage exactly as from a directory, and removes the download', async () => {
    const err = await failure(await launch('tampered', RUNNER.clientId));
    expect(err.code).toBe('ERR_RUNNER_MODEL_TAMPERED');
    expect(readdirSync(downloads)).toEqual([]);
  });
});
