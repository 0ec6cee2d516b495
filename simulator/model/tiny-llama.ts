/**
 * Tiny random-weight llama models for tests: a few hundred kilobytes that llama.cpp loads and runs like any
 * llama GGUF, with the demo model's tokenizer, so runner code can be exercised without the real model.
 * The weights come from a seeded generator: the same options give a byte-identical file.
 */
import { createHash } from 'node:crypto';
import { type GgmlTensorType, writeGguf } from './gguf-writer.js';
import { type LlamaConfig, llamaGgufFile, llamaTensorShapes } from './llama-gguf.js';
import { characterVocabulary } from './vocab.js';

export interface TinyLlamaOptions {
  /** Any string; default 'zt4ai-tiny-llama'. */
  readonly seed?: string;
  readonly blockCount?: number;
  readonly embeddingLength?: number;
  readonly headCount?: number;
  readonly feedForwardLength?: number;
  readonly contextLength?: number;
  readonly matrixType?: GgmlTensorType;
  readonly name?: string;
  /** Standard deviation of the random matrices; default 0.05. */
  readonly weightScale?: number;
}

export interface TinyLlamaSummary {
  readonly path: string;
  readonly bytes: number;
  readonly parameters: number;
  readonly config: LlamaConfig;
}

/** sfc32: small, fast, and good enough for weights; seeded from SHA-256 so any string works as a seed. */
function seededUniform(seed: string): () => number {
  const h = createHash('sha256').update(`zt4ai-tiny-llama:${seed}`).digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

export function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions = {}): TinyLlamaSummary {
  const config: LlamaConfig = {
    contextLength: options.contextLength ?? 256,
    embeddingLength: options.embeddingLength ?? 64,
    blockCount: options.blockCount ?? 2,
    feedForwardLength: options.feedForwardLength ?? 176,
    headCount: options.headCount ?? 4,
    rmsEpsilon: 1e-5,
    ropeFreqBase: 10000,
  };
  const vocab = characterVocabulary();
  const next = seededUniform(options.seed ?? 'zt4ai-tiny-llama');
  // Uniform on [-r, r] has standard deviation r / sqrt(3).
  const r = (options.weightScale ?? 0.05) * Math.sqrt(3);
  const weights = new Map<string, Float32Array>();
  let parameters = 0;
  for (const { name, dims } of llamaTensorShapes(config, vocab.tokens.length)) {
    const data = new Float32Array(dims.reduce((x, y) => x * y, 1));
    if (dims.length === 1) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * r;
    weights.set(name, data);
    parameters += data.length;
  }
  const file = llamaGgufFile({
    name: options.name ?? 'zt4ai tiny random llama',
    description: 'Random weights for tests; generates noise.',
    config,
    vocab,
    weights: (name) => weights.get(name),
    ...(options.matrixType === undefined ? {} : { matrixType: options.matrixType }),
  });
  return { path, bytes: writeGguf(path, file), parameters, config };
}
