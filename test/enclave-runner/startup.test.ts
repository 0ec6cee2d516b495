import { generateKeyPairSync } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDemoModel } from '../../enclave-runner/backends/ngram/demo-model.js';
import type { RunnerError } from '../../enclave-runner/errors.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import { rsaOaepWrapper } from '../../keys/sealing/data-keys.js';
import { sealModel } from '../../keys/sealing/seal-model.js';
import { SimulatedFirmware, TsmResponder, createSimulatedRoots } from '../../simulator/index.js';
import { type Stack, startStack } from './stack.js';
import { runnerFailure } from './runner-failure.js';

let stack: Stack;
const runners: RunningRunner[] = [];
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  for (const r of runners) await r.stop();
  await stack?.close();
});

async function launch(overrides: Record<string, unknown> = {}, options: Parameters<typeof launchRunner>[1] = {}): Promise<RunningRunner> {
  const r = await launchRunner(await stack.config(overrides), options);
  runners.push(r);
  return r;
}

/** Launches a runner that must fail; returns its error and /status. */
async function failing(overrides: Record<string, unknown> = {}, options: Parameters<typeof launchRunner>[1] = {}): Promise<{ err: RunnerError; runner: RunningRunner }> {
  const runner = await launch(overrides, options);
  return { err: await runnerFailure(runner.ready), runner };
}

/** A copy of the sealed model with one byte of the ngram.json container flipped. */
function tamperedCopy(name: string): string {
  const out = join(stack.dir, name);
  cpSync(stack.sealedDir, out, { recursive: true });
  const fd = openSync(join(out, 'ngram.json.sealed'), 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 1000);
  b[0]! ^= 0x80;
  writeSync(fd, b, 0, 1, 1000);
  closeSync(fd);
  return out;
}

describe('start-up against a real KRS on simulated evidence', () => {
  it('attests, obtains the key, verifies, unseals and serves; /status shows every step with its duration', async () => {
    const runner = await launch();
    await runner.ready;
    const status = runner.status();
    expect(status.state).toBe('serving');
    expect(status.simulated).toBe(true);
    expect(status.steps.map((s) => [s.name, s.ok])).toEqual(['tee-key', 'evidence', 'attest', 'release', 'model-signature', 'unseal', 'load-model', 'serve'].map((n) => [n, true]));
    for (const s of status.steps) expect(s.ms).toBeGreaterThanOrEqual(0);
    expect(status.steps[3]!.detail).toMatchObject({ kid: stack.keyId, kty: 'RSA' });
    expect(status.model).toMatchObject({ id: 'zt4ai-model', keyId: stack.keyId, files: 2 });
    const http = await (await fetch(`${runner.url}/status`)).json();
    expect(JSON.stringify(http)).not.toMatch(/"token"|BEGIN|material/);
    expect((await fetch(`${runner.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${runner.url}/metrics`)).text();
    expect(metrics).toMatch(/zt4ai_runner_startup_step_seconds\{step="release",outcome="ok"\} /);
    expect(metrics).toMatch(/zt4ai_runner_ready 1/);
  });

  it('answers 503 on /readyz and the API until it serves', async () => {
    const tsm = join(stack.dir, 'slow-tsm');
    mkdirSync(join(tsm, 'report'), { recursive: true });
    const runner = await launch({ evidence: { kind: 'simulated', path: tsm } });
    const ready = await fetch(`${runner.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'starting' });
    const api = await fetch(`${runner.url}/v1/models`);
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('zt4ai_not_ready');
    // The "kernel" answers only now.
    const responder = new TsmResponder(tsm, new SimulatedFirmware({ root: (await createSimulatedRoots({ seed: 'zt4ai runner tests' })).Genoa }), { intervalMs: 5 });
    responder.start();
    await runner.ready;
    await responder.stop();
    expect((await fetch(`${runner.url}/readyz`)).status).toBe(200);
    expect(((await (await fetch(`${runner.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data[0]!.id).toBe('zt4ai-model');
  });

  it('unseals into tmpfs when asked, and removes the plaintext once the n-gram model is loaded', async () => {
    const plaintextDir = `/dev/shm/zt4ai-test-${process.pid}-${Date.now()}`;
    const runner = await launch({ sealedModel: { path: stack.sealedDir, plaintextDir } });
    await runner.ready;
    expect(runner.status().steps.find((s) => s.name === 'unseal')!.detail).toMatchObject({ into: 'tmpfs', dir: plaintextDir });
    expect(existsSync(plaintextDir)).toBe(false);
  });
});

describe('each refusal stops start-up with its step, code and reason, and nothing is served', () => {
  it('no evidence source: ERR_RUNNER_NO_EVIDENCE_SOURCE at evidence', async () => {
    const nowhere = join(stack.dir, 'nowhere');
    const { err, runner } = await failing({ evidence: 'auto' }, { probe: { configfsTsm: join(nowhere, 'tsm'), azureVtpm: join(nowhere, 'tpmrm0') } });
    expect([err.code, err.step]).toEqual(['ERR_RUNNER_NO_EVIDENCE_SOURCE', 'evidence']);
    const status = runner.status();
    expect(status.state).toBe('failed');
    expect(status.steps.map((s) => s.state)).toEqual(['ok', 'failed', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending']);
    const ready = await fetch(`${runner.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'failed', failure: { step: 'evidence', code: 'ERR_RUNNER_NO_EVIDENCE_SOURCE' } });
    const chat = await fetch(`${runner.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) });
    expect(chat.status).toBe(503);
  });

  it('attestation refused (evidence under roots the KRS does not trust): ERR_RUNNER_ATTEST_REFUSED', async () => {
    const tsm = join(stack.dir, 'foreign-tsm');
    mkdirSync(join(tsm, 'report'), { recursive: true });
    const foreign = new TsmResponder(tsm, new SimulatedFirmware({ root: (await createSimulatedRoots({ seed: 'some other simulator' })).Genoa }), { intervalMs: 5 });
    foreign.start();
    const { err } = await failing({ evidence: { kind: 'simulated', path: tsm } });
    await foreign.stop();
    expect([err.code, err.step, err.reason?.code]).toEqual(['ERR_RUNNER_ATTEST_REFUSED', 'attest', 'ERR_EVIDENCE_REJECTED']);
  });

  it('release denied by policy (debuggable guest): ERR_RUNNER_RELEASE_DENIED with the failing clause', async () => {
    const tsm = await stack.tsmTree({ policy: 0xb0000n });
    const { err } = await failing({ evidence: { kind: 'simulated', path: tsm } });
    expect([err.code, err.step, err.reason?.code]).toEqual(['ERR_RUNNER_RELEASE_DENIED', 'release', 'ERR_RELEASE_POLICY_DENIED']);
    expect(err.reason?.details?.map((d) => d.message)).toEqual([expect.stringMatching(/x-ms-sevsnpvm-is-debuggable equals false: actual true/)]);
  });

  it('a configuration other than the pinned one gets no key (x-ms-runtime.x-zt4ai-config)', async () => {
    const { err } = await failing({ systemPrompt: 'You may say anything.' });
    expect([err.code, err.reason?.code]).toEqual(['ERR_RUNNER_RELEASE_DENIED', 'ERR_RELEASE_POLICY_DENIED']);
    expect(err.reason?.details?.[0]?.message).toMatch(/x-ms-runtime\.x-zt4ai-config equals/);
  });

  it('a model signed by an untrusted key: ERR_RUNNER_MODEL_SIGNATURE (ERR_SIG_KEY_MISMATCH), after the key was released', async () => {
    const model = join(stack.dir, 'model-other');
    await makeDemoModel(model);
    const key = await stack.keys.getKey('model-key');
    const jwk = { kty: 'RSA', n: Buffer.from(key.key!.n!).toString('base64url'), e: Buffer.from(key.key!.e!).toString('base64url') };
    const sealed = join(stack.dir, 'sealed-other-signer');
    await sealModel(model, { outDir: sealed, key: { wrapper: rsaOaepWrapper(jwk, key.id!) }, sign: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }, threads: 0 });
    const { err, runner } = await failing({ sealedModel: { path: sealed } });
    expect([err.code, err.step, err.reason?.code]).toEqual(['ERR_RUNNER_MODEL_SIGNATURE', 'model-signature', 'ERR_SIG_KEY_MISMATCH']);
    expect(runner.status().steps.find((s) => s.name === 'release')!.ok).toBe(true);
  });

  it('a tampered sealed file: ERR_RUNNER_MODEL_TAMPERED (ERR_SEAL_CHUNK_CORRUPT); tmpfs plaintext is removed', async () => {
    const plaintextDir = `/dev/shm/zt4ai-test-tampered-${process.pid}`;
    const { err } = await failing({ sealedModel: { path: tamperedCopy('sealed-tampered'), plaintextDir } });
    expect([err.code, err.step, err.reason?.code]).toEqual(['ERR_RUNNER_MODEL_TAMPERED', 'unseal', 'ERR_SEAL_CHUNK_CORRUPT']);
    expect(existsSync(plaintextDir)).toBe(false);
  });

  it('a missing container: ERR_RUNNER_MODEL_TAMPERED (ERR_SEAL_FILE_MISSING)', async () => {
    const out = join(stack.dir, 'sealed-missing');
    cpSync(stack.sealedDir, out, { recursive: true });
    rmSync(join(out, 'MODEL_CARD.md.sealed'));
    const { err } = await failing({ sealedModel: { path: out } });
    expect([err.code, err.reason?.code]).toEqual(['ERR_RUNNER_MODEL_TAMPERED', 'ERR_SEAL_FILE_MISSING']);
  });

  it('a model sealed to another key than the released one: ERR_RUNNER_UNSEAL_KEY (ERR_KEY_UNWRAP)', async () => {
    const model = join(stack.dir, 'model-wrong-key');
    await makeDemoModel(model);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const sealed = join(stack.dir, 'sealed-wrong-key');
    // Signed by the trusted signer, so only the key is wrong.
    await sealModel(model, { outDir: sealed, key: { wrapper: rsaOaepWrapper(other, stack.keyId) }, sign: { privateKey: stack.signer }, threads: 0 });
    const { err } = await failing({ sealedModel: { path: sealed } });
    expect([err.code, err.step, err.reason?.code]).toEqual(['ERR_RUNNER_UNSEAL_KEY', 'unseal', 'ERR_KEY_UNWRAP']);
  });
});
