import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import { writeTinyLlamaGguf } from '../../simulator/model/index.js';
import { sseEvents } from '../enclave-runner/api-app.js';
import { type Stack, startStack } from '../enclave-runner/stack.js';
import { directCompletion } from '../helpers/demo-model.js';
import { REPO_ROOT } from '../helpers/shared.js';

/**
 * The llama backend end to end: a sealed GGUF released, unsealed into memory and served by llama.cpp in the
 * runner; the same text as node-llama-cpp gives directly for the same prompt, seed and temperature (so the
 * answer comes from the model); streaming; and the openai-upstream backend in both modes with a real
 * upstream: pointed at a llama runner, and starting one itself (a second runner, on the port it chose).
 */
const ENTRY = resolve(REPO_ROOT, 'test/enclave-runner/zt4ai-entry.ts');
const modelDir = mkdtempSync(join(tmpdir(), 'zt4ai-llama-model-'));
const LLAMA = { backend: { kind: 'llama', file: 'model.gguf', threads: 1, contextSize: 128 }, sealedModel: { path: 'sealed', unsealTo: 'memory' } };
let stack: Stack;
// The second runner's config file: its path is in the first runner's command (so in its digest) before the stack exists.
const llamaFile = join(modelDir, '..', `${modelDir.split('/').pop()}-llama.json`);
const runners: RunningRunner[] = [];

const upstreamCommand = (): Record<string, unknown> => ({
  backend: { kind: 'openai-upstream', command: { argv: [process.execPath, '--import', 'tsx', ENTRY, 'runner', 'start', '--config', llamaFile, '--listen', '127.0.0.1:{port}'], startTimeoutMs: 60_000 } },
  sealedModel: { path: 'sealed', unsealTo: 'tmpfs' },
});
const upstreamUrl = (url: string): Record<string, unknown> => ({ backend: { kind: 'openai-upstream', url }, sealedModel: { path: 'sealed', unsealTo: 'tmpfs' } });

beforeAll(async () => {
  writeTinyLlamaGguf(join(modelDir, 'model.gguf'), { seed: 'llama runner e2e' });
  // Every runner here shares one key: the policy accepts each of their configuration digests.
  stack = await startStack({ modelDir, pinOverrides: LLAMA, pinAlso: [upstreamCommand(), upstreamUrl('http://127.0.0.1:1')] });
  writeFileSync(llamaFile, JSON.stringify(stack.configJson({ ...LLAMA, sealedModel: { path: stack.sealedDir, unsealTo: 'memory' } })));
}, 60_000);

afterAll(async () => {
  for (const r of runners) await r.stop();
  await stack?.close();
  rmSync(modelDir, { recursive: true, force: true });
  rmSync(llamaFile, { force: true });
});

async function start(overrides: Record<string, unknown>): Promise<RunningRunner> {
  const runner = await launchRunner(await stack.config(overrides));
  runners.push(runner);
  await runner.ready;
  return runner;
}

interface Completion {
  choices: Array<{ message: { content: string }; finish_reason: string }>;
  usage: { completion_tokens: number };
}

async function chat(url: string, content: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'zt4ai-model', messages: [{ role: 'user', content }], max_tokens: 16, seed: 9, temperature: 0.7, ...extra }) });
}

/** What node-llama-cpp gives for the same prompt and sampling, without the runner. */
function direct(prompt: string): Promise<string> {
  return directCompletion(join(modelDir, 'model.gguf'), prompt, { maxTokens: 16, seed: 9, temperature: 0.7, contextSize: 128 });
}

describe('a runner serving a sealed GGUF model with the llama backend', () => {
  let llama: RunningRunner;
  beforeAll(async () => {
    llama = await start(LLAMA);
  }, 60_000);

  it('answers with exactly what the model generates, and reports the load step', async () => {
    const res = await chat(llama.url, 'In the beginning');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body.choices[0]!.message.content).toBe(await direct('In the beginning'));
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(llama.status().steps.find((s) => s.name === 'load-model')).toMatchObject({ ok: true, detail: { backend: 'llama' } });
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`zt4ai-runner-${process.pid}-`))).toEqual([]);
  });

  it('streams the same text over server-sent events', async () => {
    const whole = ((await (await chat(llama.url, 'In the beginning')).json()) as Completion).choices[0]!.message.content;
    const events = await sseEvents(await chat(llama.url, 'In the beginning', { stream: true }));
    expect(events.at(-1)).toBe('[DONE]');
    const text = (events.slice(0, -1) as Array<{ choices: Array<{ delta?: { content?: string } }> }>).map((e) => e.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(whole);
  });

  it('is a real upstream for a runner pointed at it (openai-upstream url)', async () => {
    const proxy = await start(upstreamUrl(llama.url));
    const viaProxy = ((await (await chat(proxy.url, 'In the beginning')).json()) as Completion).choices[0]!.message.content;
    expect(viaProxy).toBe(await direct('In the beginning'));
  });
});

describe('a runner that starts its upstream itself (openai-upstream command)', () => {
  it('starts it on a free port, removes the plaintext once it answers, proxies to it, and stops it', async () => {
    const plaintextParent = mkdtempSync(join('/dev/shm', 'zt4ai-test-upstream-'));
    try {
      const runner = await launchRunner(await stack.config({ ...upstreamCommand(), sealedModel: { path: 'sealed', plaintextDir: join(plaintextParent, 'p') } }));
      runners.push(runner);
      await runner.ready;
      expect(existsSync(join(plaintextParent, 'p'))).toBe(false);
      const res = await chat(runner.url, 'In the beginning');
      expect(res.status).toBe(200);
      expect(((await res.json()) as Completion).choices[0]!.message.content).toBe(await direct('In the beginning'));
      const upstreamPid = Number((runner.status().steps.find((s) => s.name === 'load-model')?.detail as { upstreamPid?: number } | undefined)?.upstreamPid);
      expect(upstreamPid).toBeGreaterThan(0);
      await runner.stop();
      expect(() => process.kill(upstreamPid, 0)).toThrow();
    } finally {
      rmSync(plaintextParent, { recursive: true, force: true });
    }
  }, 120_000);
});
