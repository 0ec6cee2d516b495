/**
 * Checks a demo-model GGUF in node-llama-cpp: it loads, the tokenizer round-trips text with spaces and
 * newlines and gives the ids of simulator/model/vocab.ts, greedy decoding matches train.py's PyTorch model
 * (which catches a RoPE or layout mismatch that would still "work" but write worse text), and it measures
 * generation speed with one thread. Usage: npx tsx scripts/demo-model/verify.ts <model.gguf> [train-output-dir]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOS_ID, encodeCharacters } from '../../simulator/model/index.js';

class VerifyError extends Error {
  override readonly name = 'VerifyError';
}

const ROUND_TRIP = 'In the beginning God created the heaven and the earth.\nAnd the earth was without form, and void; 42 {x} ~!\n';

async function main(): Promise<void> {
  const [modelPath, trainDir] = process.argv.slice(2);
  if (modelPath === undefined) throw new VerifyError('usage: verify.ts <model.gguf> [train-output-dir]');
  const { getLlama, LlamaCompletion, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const say = (s: string): boolean => process.stdout.write(`${s}\n`);

  const ids = model.tokenize(ROUND_TRIP);
  const back = model.detokenize(ids);
  if (back !== ROUND_TRIP) throw new VerifyError(`round trip changed the text: ${JSON.stringify(back)}`);
  if (JSON.stringify([...ids]) !== JSON.stringify(encodeCharacters(ROUND_TRIP))) throw new VerifyError('llama.cpp token ids differ from encodeCharacters');
  if (model.tokens.bos !== BOS_ID) throw new VerifyError(`BOS is ${model.tokens.bos}, expected ${BOS_ID}`);
  say(`tokenizer: ${ids.length} tokens round-trip exactly and match simulator/model/vocab.ts`);

  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  const completion = new LlamaCompletion({ contextSequence: ctx.getSequence() });
  const prompt = 'In the beginning God';
  const manifestPath = trainDir === undefined ? undefined : join(trainDir, 'manifest.json');
  if (manifestPath !== undefined && existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { greedy: { prompt: string; continuation: string } };
    const n = encodeCharacters(manifest.greedy.continuation).length;
    const text = await completion.generateCompletion(manifest.greedy.prompt, { maxTokens: n, temperature: 0, repeatPenalty: false });
    // F16 rounding can flip a near-tie late in a long greedy run; the first 40 characters must agree.
    const agree = [...text].findIndex((ch, i) => ch !== manifest.greedy.continuation[i]);
    const prefix = agree === -1 ? Math.min(text.length, manifest.greedy.continuation.length) : agree;
    say(`greedy llama.cpp: ${JSON.stringify(text)}`);
    say(`greedy PyTorch:   ${JSON.stringify(manifest.greedy.continuation)}`);
    say(`agree on the first ${prefix} of ${n} characters`);
    if (prefix < Math.min(40, n)) throw new VerifyError('llama.cpp and PyTorch disagree early: the export does not match training');
  }

  const seq2ctx = await model.createContext({ contextSize: 256, threads: 1 });
  const sampler = new LlamaCompletion({ contextSequence: seq2ctx.getSequence() });
  const maxTokens = 200;
  const start = performance.now();
  let generated = 0;
  const text = await sampler.generateCompletion(prompt, {
    maxTokens,
    temperature: 0.8,
    topK: 40,
    seed: 1611,
    onToken: (tokens) => {
      generated += tokens.length;
    },
  });
  const seconds = (performance.now() - start) / 1000;
  say(`sample (temperature 0.8, top-k 40, seed 1611):\n${prompt}${text}`);
  say(`speed: ${generated} tokens in ${seconds.toFixed(2)} s = ${(generated / seconds).toFixed(0)} tokens/s (1 thread, incl. prompt)`);
  await seq2ctx.dispose();
  await ctx.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
