import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeLlamaDemoModel } from '../../enclave-runner/backends/llama/demo-model.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import { startStack } from '../enclave-runner/stack.js';

const PROMPT = 'And God said,';
const MAX_TOKENS = 200;
const ROUNDS = 5;
const LLAMA = { backend: { kind: 'llama', file: 'model.gguf', threads: 1, contextSize: 256 }, sealedModel: { path: 'sealed', unsealTo: 'memory' } };

/** node-llama-cpp alone: the same model, prompt, sampling and thread count, no HTTP, no guardians. */
async function directRunner(modelPath: string): Promise<{ generate: (seed: number) => Promise<{ tokens: number; seconds: number }>; loadMs: number; close: () => Promise<void> }> {
  const { getLlama, LlamaCompletion } = await import('node-llama-cpp');
  const t0 = performance.now();
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logger: () => {} });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 256, threads: 1 });
  const loadMs = performance.now() - t0;
  const sequence = context.getSequence();
  return {
    loadMs,
    generate: async (seed) => {
      await sequence.clearHistory();
      let tokens = 0;
      const s = performance.now();
      const completion = new LlamaCompletion({ contextSequence: sequence });
      await completion.generateCompletion(PROMPT, { maxTokens: MAX_TOKENS, temperature: 0.8, seed, onToken: (t) => {
          tokens += t.length;
        },
      });
      completion.dispose({ disposeSequence: false });
      return { tokens, seconds: (performance.now() - s) / 1000 };
    },
    close: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** The runner's API: a streamed chat completion (input and output guardians on), tokens = usage.completion_tokens. */
async function throughRunner(runner: RunningRunner, seed: number): Promise<{ tokens: number; seconds: number }> {
  const s = performance.now();
  const res = await fetch(`${runner.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'zt4ai-model', messages: [{ role: 'user', content: PROMPT }], max_tokens: MAX_TOKENS, temperature: 0.8, seed, stream: true, stream_options: { include_usage: true } }),
  });
  const text = await res.text();
  const seconds = (performance.now() - s) / 1000;
  const usage = /"completion_tokens":(\d+)/.exec(text);
  return { tokens: usage ? Number(usage[1]) : text.split('\n\n').filter((e) => e.startsWith('data: {')).length, seconds };
}

/**
 * Tokens per second of the demo model through the runner (HTTP, SSE, both guardians) against node-llama-cpp
 * called directly in the same process, one thread each, alternating rounds; and the runner's time to ready
 * (attest, release, verify, unseal, load) against loading the same model directly.
 */
export async function benchRunner(): Promise<boolean> {
  const modelDir = mkdtempSync(join(tmpdir(), 'zt4ai-bench-llama-'));
  await makeLlamaDemoModel(modelDir);
  const stack = await startStack({ modelDir, pinOverrides: LLAMA });
  const direct = await directRunner(join(modelDir, 'model.gguf'));
  const t0 = performance.now();
  const runner = await launchRunner(await stack.config(LLAMA));
  try {
    await runner.ready;
    const readyMs = performance.now() - t0;
    const steps = runner.status().steps.map((s) => `${s.name} ${Math.round(s.ms ?? 0)}`).join(', ');
    const ratios: Array<{ ours: number; limit: number; ratio: number }> = [];
    await throughRunner(runner, 1);
    await direct.generate(1);
    for (let i = 0; i < ROUNDS; i++) {
      const d = await direct.generate(100 + i);
      const r = await throughRunner(runner, 100 + i);
      const ours = r.tokens / r.seconds;
      const limit = d.tokens / d.seconds;
      ratios.push({ ours, limit, ratio: ours / limit });
    }
    ratios.sort((a, b) => a.ratio - b.ratio);
    const m = ratios[Math.floor(ratios.length / 2)]!;
    const pass = m.ratio >= 0.95;
    console.log(`runner llama tokens/s (demo model, 1 thread, ${MAX_TOKENS} tokens, streamed through both guardians): ${m.ours.toFixed(0)}/s; limit (node-llama-cpp direct) ${m.limit.toFixed(0)}/s; ratio ${m.ratio.toFixed(3)} (goal >= 0.95, i.e. < 5% overhead) ${pass ? 'PASS' : 'BELOW GOAL'}`);
    console.log(`runner time to ready: ${(readyMs / 1000).toFixed(2)} s (${steps} ms); loading the same model directly ${(direct.loadMs / 1000).toFixed(2)} s; goal (npm start ready) < 30 s ${readyMs < 30_000 ? 'PASS' : 'BELOW GOAL'}`);
    return pass && readyMs < 30_000;
  } finally {
    await runner.stop();
    await direct.close();
    await stack.close();
    rmSync(modelDir, { recursive: true, force: true });
  }
}
