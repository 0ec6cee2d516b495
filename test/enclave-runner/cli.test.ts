import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDigest } from '../../enclave-runner/config/digest.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import { cli } from '../helpers/cli.js';
import { simulatedRootsPem } from '../../simulator/index.js';
import { type Stack, roots, startStack } from './stack.js';

let stack: Stack;
let serving: RunningRunner;
beforeAll(async () => {
  stack = await startStack();
  serving = await launchRunner(await stack.config());
  await serving.ready;
});
afterAll(async () => {
  await serving?.stop();
  await stack?.close();
});

function configFile(name: string, overrides: Record<string, unknown> = {}): string {
  const file = join(stack.dir, name);
  writeFileSync(file, JSON.stringify(stack.configJson(overrides)));
  return file;
}

describe('zt4ai runner start', () => {
  it('exits 2 on a missing or invalid configuration, naming the problem', async () => {
    const missing = await cli(['runner', 'start', '--config', join(stack.dir, 'none.json')]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/cannot read config file .* ENOENT \[ERR_RUNNER_CONFIG\]/)]);
    const bad = await cli(['runner', 'start', '--config', configFile('bad.json', { trustedSigners: [] })]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/at least one signer.*\[ERR_RUNNER_CONFIG\]/)]);
  });

  it('exits 1 when start-up fails, with the failing step, the code and every failing clause', async () => {
    const tsm = await stack.tsmTree({ policy: 0xb0000n });
    const r = await cli(['runner', 'start', '--config', configFile('debug.json', { evidence: { kind: 'simulated', path: tsm } })]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/start-up failed at step release: the key service refused to release the key \(HTTP 403, ERR_RELEASE_POLICY_DENIED\) \[ERR_RUNNER_RELEASE_DENIED\] \(reason: ERR_RELEASE_POLICY_DENIED\)\n {4}- ✗ x-ms-sevsnpvm-is-debuggable equals false/);
    const json = await cli(['runner', 'start', '--json', '--config', configFile('debug-json.json', { evidence: { kind: 'simulated', path: tsm } })]);
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({ ok: false, step: 'release', code: 'ERR_RUNNER_RELEASE_DENIED', reason: { code: 'ERR_RELEASE_POLICY_DENIED' } });
  });
});

describe('zt4ai runner verify', () => {
  const simRoots = async (): Promise<string> => {
    const file = join(stack.dir, 'sim-roots.pem');
    writeFileSync(file, simulatedRootsPem(await roots()));
    return file;
  };
  it('exits 0 for a serving runner whose every step is ok, listing the steps', async () => {
    const r = await cli(['runner', 'verify', '--url', serving.url, '--sim-roots', await simRoots()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/serving \(SIMULATED evidence\)/);
    for (const step of ['tee-key', 'evidence', 'attest', 'release', 'model-signature', 'unseal', 'load-model', 'serve']) expect(r.stdout).toMatch(new RegExp(`✓ ${step}`));
    const json = await cli(['runner', 'verify', '--url', serving.url, '--sim-roots', await simRoots(), '--json']);
    expect(json.json()).toMatchObject({ ok: true, state: 'serving' });
  });

  it('exits 1 for a runner whose start-up failed, and 2 when nothing answers', async () => {
    const failed = await launchRunner(await stack.config({ systemPrompt: 'not the pinned one' }));
    await failed.ready.catch(() => undefined);
    try {
      const r = await cli(['runner', 'verify', '--url', failed.url]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/✗ release .*ERR_RUNNER_RELEASE_DENIED/);
      expect(r.stdout).toMatch(/NOT serving/);
    } finally {
      await failed.stop();
    }
    const none = await cli(['runner', 'verify', '--url', 'http://127.0.0.1:9']);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/cannot read http:\/\/127\.0\.0\.1:9\/status/)]);
  });
});

describe('zt4ai runner config-digest and make-demo-model', () => {
  it('prints the digest a release policy pins', async () => {
    const r = await cli(['runner', 'config-digest', '--config', configFile('digest.json')]);
    expect(r.stdout.trim()).toBe(configDigest(await stack.config()));
    expect((await cli(['runner', 'config-digest', '--json', '--config', configFile('digest.json')])).json()).toMatchObject({ sha256: r.stdout.trim(), clientPayloadBase64: Buffer.from(r.stdout.trim()).toString('base64'), effective: { backend: { kind: 'ngram' } } });
  });

  it('writes the demo model; a non-empty directory is a usage error', async () => {
    const out = join(stack.dir, 'made');
    const r = await cli(['runner', 'make-demo-model', '--kind', 'ngram', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ files: ['ngram.json', 'MODEL_CARD.md'], backend: { kind: 'ngram' } });
    const gguf = await cli(['runner', 'make-demo-model', '--out', join(stack.dir, 'made-gguf'), '--json']);
    expect(gguf.json()).toMatchObject({ files: ['model.gguf', 'MODEL_CARD.md'], backend: { kind: 'llama', file: 'model.gguf' } });
    expect(readFileSync(join(stack.dir, 'made-gguf', 'model.gguf')).subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect((await cli(['runner', 'make-demo-model', '--kind', 'gpt', '--out', join(stack.dir, 'x')])).code).toBe(2);
    const again = await cli(['runner', 'make-demo-model', '--out', out]);
    expect([again.code, again.stderr]).toEqual([2, expect.stringMatching(/not empty \[ERR_IO\]/)]);
  });
});
