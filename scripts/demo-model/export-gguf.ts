/**
 * Turns train.py's output (manifest.json + weights.f32) into the demo model's GGUF with the simulator's GGUF
 * writer, so the repository has one writer. Refuses a manifest whose vocabulary is not the shared one.
 * Usage: npx tsx scripts/demo-model/export-gguf.ts <train-output-dir> <out.gguf>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LlamaConfig, characterVocabulary, llamaGgufFile, writeGguf } from '../../simulator/model/index.js';

interface Manifest {
  format: string;
  config: { n_vocab: number; n_ctx: number; n_embd: number; n_layer: number; n_head: number; n_ff: number; rms_eps: number; rope_base: number };
  parameters: number;
  vocab: string[];
  tensors: Array<{ name: string; shape: number[]; offset: number }>;
  training: { steps: number; seconds: number; val_loss: number; tokens_seen: number };
}

class ExportError extends Error {
  override readonly name = 'ExportError';
}

function main(): void {
  const [dir, out] = process.argv.slice(2);
  if (dir === undefined || out === undefined) throw new ExportError('usage: export-gguf.ts <train-output-dir> <out.gguf>');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  if (manifest.format !== 'zt4ai-demo-weights-1') throw new ExportError(`unknown manifest format '${manifest.format}'`);
  const raw = readFileSync(join(dir, 'weights.f32'));
  const vocab = characterVocabulary();
  if (JSON.stringify(manifest.vocab) !== JSON.stringify(vocab.tokens)) {
    throw new ExportError('the weights were trained on a different vocabulary than simulator/model/vocab.ts');
  }
  const c = manifest.config;
  const config: LlamaConfig = {
    contextLength: c.n_ctx,
    embeddingLength: c.n_embd,
    blockCount: c.n_layer,
    feedForwardLength: c.n_ff,
    headCount: c.n_head,
    rmsEpsilon: c.rms_eps,
    ropeFreqBase: c.rope_base,
  };
  const weights = new Map<string, Float32Array>();
  for (const t of manifest.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset + count * 4 > raw.length) throw new ExportError(`tensor '${t.name}' runs past the end of weights.f32`);
    // Copy out so the Float32Array is aligned whatever the offset; the dump is little-endian like every host we run on.
    const bytes = Uint8Array.prototype.slice.call(raw, t.offset, t.offset + count * 4);
    // PyTorch [out, in] row-major is ggml [in, out]: the same bytes with the dims listed the other way round.
    weights.set(t.name, new Float32Array(bytes.buffer, bytes.byteOffset, count));
  }
  const file = llamaGgufFile({
    name: 'zt4ai-demo-kjv',
    description:
      `zt4ai demo model: a ${(manifest.parameters / 1e6).toFixed(1)}M-parameter character-level llama trained for ` +
      `${manifest.training.steps} steps (${manifest.training.tokens_seen} tokens) on the King James Bible. ` +
      'A toy that writes KJV-like text, not an assistant. See models/demo/MODEL_CARD.md.',
    license: 'Apache-2.0',
    config,
    vocab,
    weights: (name) => weights.get(name),
  });
  for (const t of file.tensors) {
    const shape = manifest.tensors.find((m) => m.name === t.name)!.shape;
    if (JSON.stringify([...shape].reverse()) !== JSON.stringify(t.dims)) {
      throw new ExportError(`tensor '${t.name}' has PyTorch shape [${shape.join(', ')}], expected the reverse of [${t.dims.join(', ')}]`);
    }
  }
  const bytes = writeGguf(out, file);
  process.stdout.write(`${out}: ${bytes} bytes, ${file.tensors.length} tensors, ${manifest.parameters} parameters\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
