import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, GenerateParams, InferenceBackend } from '../../../enclave-runner/backends/backend.js';
import { LlamaBackend } from '../../../enclave-runner/backends/llama/backend.js';
import type { LlamaBackendConfig } from '../../../enclave-runner/config/types.js';
import { memoryStore, type PlaintextStore } from '../../../enclave-runner/startup/plaintext.js';
import type { Track, Wipeable } from '../../../enclave-runner/startup/secrets.js';
import { writeTinyLlamaGguf } from '../../../simulator/model/index.js';

const dir = mkdtempSync(join(tmpdir(), 'zt4ai-llama-'));
const ggufPath = join(dir, 'tiny.gguf');
const config: LlamaBackendConfig = { kind: 'llama', file: 'model.gguf', threads: 1, gpu: 'cpu', contextSize: 128, parallel: 1, promptFormat: 'auto' };
let gguf: Buffer;
let backend: LlamaBackend;
const tracked: Wipeable[] = [];
const track: Track = (s) => {
  tracked.push(s);
  return s;
};

/** A memory store holding `bytes` as model.gguf, as the unseal step leaves it. */
async function storeWith(bytes: Buffer): Promise<{ store: PlaintextStore; copy: Buffer }> {
  const store = memoryStore();
  const sink = await store.sink({ name: 'model.gguf', size: bytes.length });
  await sink.write(bytes);
  await sink.commit();
  return { store, copy: await store.read('model.gguf') };
}

const shmDirs = (): string[] => readdirSync('/dev/shm').filter((n) => n.startsWith(`zt4ai-runner-${process.pid}-`));

async function collect(b: InferenceBackend, messages: readonly ChatMessage[], params: GenerateParams): Promise<string[]> {
  const out: string[] = [];
  for await (const p of b.generate(messages, params)) out.push(p);
  return out;
}

const user = (content: string): ChatMessage[] => [{ role: 'user', content }];

beforeAll(async () => {
  writeTinyLlamaGguf(ggufPath, { seed: 'llama backend test' });
  gguf = await readFile(ggufPath);
  const { store, copy } = await storeWith(gguf);
  backend = await LlamaBackend.load(config, store, track);
  // The in-memory plaintext was zeroed once llama.cpp had the model.
  expect(copy.every((b) => b === 0)).toBe(true);
}, 60_000);

afterAll(async () => {
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the llama backend (node-llama-cpp, in process)', () => {
  it('stages the plaintext in a 0600 tmpfs file only for the load: nothing is left in /dev/shm', () => {
    expect(tracked).toHaveLength(1);
    expect((tracked[0] as PlaintextStore).kind).toBe('tmpfs');
    expect(shmDirs()).toEqual([]);
    expect(backend.info).toMatchObject({ architecture: 'llama', promptFormat: 'completion', contextSize: 128, gpu: false, threads: 1 });
  });

  it('streams at most max_tokens pieces, and the same seed gives the same text', async () => {
    const params = { maxTokens: 12, temperature: 0.9, seed: 42 };
    const a = await collect(backend, user('In the beginning'), params);
    const b = await collect(backend, user('In the beginning'), params);
    // One piece per generated token; a random model rarely stops early, so 12 tokens, 12 pieces.
    expect(a.length).toBeGreaterThan(0);
    expect(a.length).toBeLessThanOrEqual(12);
    expect(a.join('')).toBe(b.join(''));
    const other = await collect(backend, user('In the beginning'), { ...params, seed: 43 });
    expect(other.join('')).not.toBe(a.join(''));
  });

  it('counts tokens with the model tokenizer', () => {
    expect(backend.countTokens('')).toBe(0);
    expect(backend.countTokens('abc')).toBeGreaterThan(0);
    expect(backend.countTokens('abc abc abc abc')).toBeGreaterThan(backend.countTokens('abc'));
  });

  it('ends the text before a stop sequence', async () => {
    const full = (await collect(backend, user('And'), { maxTokens: 24, temperature: 0, seed: 1 })).join('');
    const stop = full.slice(4, 6);
    expect(stop.length).toBe(2);
    const cut = (await collect(backend, user('And'), { maxTokens: 24, temperature: 0, seed: 1, stop: [stop] })).join('');
    expect(cut).toBe(full.slice(0, full.indexOf(stop)));
  });

  it('stops generating when the consumer stops reading, and serves the next request', async () => {
    const controller = new AbortController();
    let n = 0;
    for await (const _ of backend.generate(user('Then'), { maxTokens: 64, temperature: 0.5, seed: 3, signal: controller.signal })) {
      if (++n === 2) break;
    }
    expect(n).toBe(2);
    expect((await collect(backend, user('Then'), { maxTokens: 3, seed: 3 })).length).toBeGreaterThan(0);
  });

  it('queues concurrent requests on its sequences: both complete', async () => {
    const [a, b] = await Promise.all([collect(backend, user('Now'), { maxTokens: 6, seed: 5 }), collect(backend, user('Now'), { maxTokens: 6, seed: 5 })]);
    expect(a.join('')).toBe(b.join(''));
  });

  it('refuses a file that is not a GGUF model: ERR_RUNNER_MODEL_LOAD, and removes its staging file', async () => {
    const { store } = await storeWith(Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(64, 0xff)]));
    await expect(LlamaBackend.load(config, store, track)).rejects.toMatchObject({ code: 'ERR_RUNNER_MODEL_LOAD' });
    expect(shmDirs()).toEqual([]);
    const { store: missing } = await storeWith(gguf);
    await expect(LlamaBackend.load({ ...config, file: 'other.gguf' }, missing, track)).rejects.toMatchObject({ code: 'ERR_RUNNER_MODEL_LOAD', message: expect.stringMatching(/no readable other\.gguf/) });
  });
});

// Keeps the helper honest: a tmpfs store is loaded in place and removed after the load.
describe('the llama backend from a tmpfs store', () => {
  it('loads the file where the unseal step left it and removes it', async () => {
    const { tmpfsStore } = await import('../../../enclave-runner/startup/plaintext.js');
    const store = await tmpfsStore(null);
    writeFileSync(join(store.dir!, 'model.gguf'), gguf, { mode: 0o600 });
    const b = await LlamaBackend.load(config, store, track);
    try {
      expect(shmDirs()).toEqual([]);
      expect((await collect(b, user('A'), { maxTokens: 2, seed: 1 })).length).toBeGreaterThan(0);
    } finally {
      await b.close();
    }
  });
});
