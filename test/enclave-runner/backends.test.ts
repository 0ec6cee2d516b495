import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceBackend } from '../../enclave-runner/backends/backend.js';
import { NgramBackend } from '../../enclave-runner/backends/ngram/backend.js';
import { DEMO_CORPUS } from '../../enclave-runner/backends/ngram/corpus.js';
import { DEMO_MODEL_FILE, makeDemoModel } from '../../enclave-runner/backends/ngram/demo-model.js';
import { trainNgram } from '../../enclave-runner/backends/ngram/train.js';
import { OpenAiProxyBackend } from '../../enclave-runner/backends/upstream/openai-proxy.js';
import { sseData } from '../../enclave-runner/backends/sse.js';

const dir = mkdtempSync(join(tmpdir(), 'zt4ai-backends-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(b: InferenceBackend, content: string, params: Parameters<InferenceBackend['generate']>[1]): Promise<string[]> {
  const out: string[] = [];
  for await (const p of b.generate([{ role: 'system', content: 'ignored by the n-gram model' }, { role: 'user', content }], params)) out.push(p);
  return out;
}

describe('the n-gram demo model', () => {
  it('is trained deterministically and written by make-demo-model with its model card', async () => {
    expect(JSON.stringify(trainNgram(DEMO_CORPUS))).toBe(JSON.stringify(trainNgram(DEMO_CORPUS)));
    const out = join(dir, 'model');
    const made = await makeDemoModel(out);
    expect(readdirSync(out).sort()).toEqual(['MODEL_CARD.md', DEMO_MODEL_FILE]);
    expect(made.bytes).toBeLessThan(64 * 1024);
    await expect(makeDemoModel(out)).rejects.toThrow(/not empty/);
  });

  it('answers from the unsealed file, the same for the same seed, in its own vocabulary', async () => {
    const b = NgramBackend.load(readFileSync(join(dir, 'model', DEMO_MODEL_FILE)));
    const a1 = await collect(b, 'What does the key service do?', { maxTokens: 40, seed: 1 });
    const a2 = await collect(b, 'What does the key service do?', { maxTokens: 40, seed: 1 });
    expect(a1).toEqual(a2);
    const text = a1.join('');
    expect(text).toMatch(/^[A-Z]/);
    const vocab = new Set(DEMO_CORPUS.toLowerCase().match(/[\p{L}\p{N}']+/gu));
    for (const w of text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []) expect(vocab.has(w), w).toBe(true);
    // One piece per token: words carry their leading space, punctuation none.
    expect(a1.slice(1).every((p) => /^( [\p{L}\p{N}']+|[.,;:!?])$/u.test(p))).toBe(true);
  });

  it('honours max_tokens and stop sequences (cut before the stop, which is not returned)', async () => {
    const b = NgramBackend.load(readFileSync(join(dir, 'model', DEMO_MODEL_FILE)));
    expect(await collect(b, 'attestation', { maxTokens: 3, seed: 2 })).toHaveLength(3);
    const full = (await collect(b, 'attestation', { maxTokens: 40, seed: 2 })).join('');
    const stop = full.split(' ')[3]!;
    const cut = (await collect(b, 'attestation', { maxTokens: 40, seed: 2, stop: [stop] })).join('');
    expect(cut).toBe(full.slice(0, full.indexOf(stop)));
  });

  it('refuses a file that is not its format: ERR_RUNNER_MODEL_LOAD', () => {
    expect(() => NgramBackend.load(Buffer.from('{"format":"gguf"}'))).toThrow(expect.objectContaining({ code: 'ERR_RUNNER_MODEL_LOAD' }));
    expect(() => NgramBackend.load(Buffer.from('not json'))).toThrow(expect.objectContaining({ code: 'ERR_RUNNER_MODEL_LOAD' }));
    const bad = { ...trainNgram('a b. c d.'), next: { '0 0': [[99, 1]] } };
    expect(() => NgramBackend.load(Buffer.from(JSON.stringify(bad)))).toThrow(expect.objectContaining({ code: 'ERR_RUNNER_MODEL_LOAD' }));
  });
});

describe('the openai-proxy backend, against a tiny OpenAI-compatible server on 127.0.0.1', () => {
  let upstream: Server;
  let url = '';
  const seen: unknown[] = [];
  let failNext = false;
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny-llama', object: 'model' }] }));
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c;
      });
      req.on('end', () => {
        seen.push(JSON.parse(body));
        if (failNext) {
          failNext = false;
          res.writeHead(500).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (content: string): string => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
        // Split mid-event on purpose: SSE parsing must not depend on write boundaries.
        const all = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant' } }] })}\n\n${chunk('Hel')}${chunk('lo')}${chunk(' there')}data: [DONE]\n\n`;
        res.write(all.slice(0, 50));
        setTimeout(() => res.end(all.slice(50)), 5);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => upstream.close(r)));

  it('learns the model name, forwards the messages with stream: true and yields the deltas', async () => {
    const b = await OpenAiProxyBackend.connect({ url, model: null, timeoutMs: 5000 });
    expect(await collect(b, 'hi', { maxTokens: 16, temperature: 0.2, seed: 5, stop: ['\n\n'] })).toEqual(['Hel', 'lo', ' there']);
    expect(seen.at(-1)).toEqual({ model: 'tiny-llama', messages: [{ role: 'system', content: 'ignored by the n-gram model' }, { role: 'user', content: 'hi' }], stream: true, max_tokens: 16, temperature: 0.2, seed: 5, stop: ['\n\n'] });
    expect(await collect(b, 'hi', { maxTokens: 2 })).toEqual(['Hel', 'lo']);
  });

  it('turns upstream failures into ERR_RUNNER_BACKEND', async () => {
    const b = await OpenAiProxyBackend.connect({ url, model: 'tiny-llama', timeoutMs: 5000 });
    failNext = true;
    await expect(collect(b, 'hi', { maxTokens: 4 })).rejects.toMatchObject({ code: 'ERR_RUNNER_BACKEND' });
    await expect(OpenAiProxyBackend.connect({ url: 'http://127.0.0.1:9', model: null, timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ERR_RUNNER_BACKEND' });
  });

  it('parses server-sent events whatever the chunking', async () => {
    const events = async (parts: string[]): Promise<string[]> => {
      const out: string[] = [];
      for await (const d of sseData((async function* () {
        yield* parts;
      })())) out.push(d);
      return out;
    };
    expect(await events(['data: a\n', '\ndata: b\r\n\r\n: comment\n\ndata: [DONE]'])).toEqual(['a', 'b', '[DONE]']);
  });
});
