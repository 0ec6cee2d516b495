/**
 * The GGUF layout of a llama-architecture model as llama.cpp loads it: `llama.*` hyperparameters, an SPM
 * ("llama") tokenizer, and llama.cpp's tensor names and ggml shapes. Both the demo model export and the
 * tiny random test models go through here, so they cannot drift apart.
 */
import { type GgmlTensorType, type GgufFile, type GgufTensor, type GgufValue, kv } from './gguf-writer.js';
import type { Vocabulary } from './vocab.js';

export interface LlamaConfig {
  readonly contextLength: number;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly rmsEpsilon: number;
  readonly ropeFreqBase: number;
}

export class LlamaGgufError extends Error {
  override readonly name = 'LlamaGgufError';
}

/** Tensor names and ggml dims (fastest-varying first) in the order they are written. */
export function llamaTensorShapes(config: LlamaConfig, vocabSize: number): Array<{ name: string; dims: number[] }> {
  const d = config.embeddingLength;
  const ff = config.feedForwardLength;
  const shapes = [{ name: 'token_embd.weight', dims: [d, vocabSize] }];
  for (let i = 0; i < config.blockCount; i++) {
    shapes.push(
      { name: `blk.${i}.attn_norm.weight`, dims: [d] },
      { name: `blk.${i}.attn_q.weight`, dims: [d, d] },
      { name: `blk.${i}.attn_k.weight`, dims: [d, d] },
      { name: `blk.${i}.attn_v.weight`, dims: [d, d] },
      { name: `blk.${i}.attn_output.weight`, dims: [d, d] },
      { name: `blk.${i}.ffn_norm.weight`, dims: [d] },
      { name: `blk.${i}.ffn_gate.weight`, dims: [d, ff] },
      { name: `blk.${i}.ffn_up.weight`, dims: [d, ff] },
      { name: `blk.${i}.ffn_down.weight`, dims: [ff, d] },
    );
  }
  shapes.push({ name: 'output_norm.weight', dims: [d] }, { name: 'output.weight', dims: [d, vocabSize] });
  return shapes;
}

export interface LlamaGgufInput {
  readonly name: string;
  readonly description?: string;
  readonly license?: string;
  readonly config: LlamaConfig;
  readonly vocab: Vocabulary;
  /** Values for every name of `llamaTensorShapes`, row-major in ggml order (PyTorch's layout as it is). */
  readonly weights: (name: string) => Float32Array | undefined;
  /** Type of the 2-D weight matrices; norms stay F32 as llama.cpp's converter keeps them. Default F16. */
  readonly matrixType?: GgmlTensorType;
  readonly extraMetadata?: ReadonlyArray<readonly [string, GgufValue]>;
}

export function llamaGgufFile(input: LlamaGgufInput): GgufFile {
  const { config: c, vocab } = input;
  if (c.embeddingLength % c.headCount !== 0) throw new LlamaGgufError(`embedding length ${c.embeddingLength} is not a multiple of ${c.headCount} heads`);
  const headDim = c.embeddingLength / c.headCount;
  if (headDim % 2 !== 0) throw new LlamaGgufError(`head dimension ${headDim} must be even for RoPE`);
  const n = vocab.tokens.length;
  if (vocab.scores.length !== n || vocab.tokenTypes.length !== n) throw new LlamaGgufError('vocabulary tokens, scores and types differ in length');
  const matrixType = input.matrixType ?? 'F16';

  const metadata: Array<readonly [string, GgufValue]> = [
    ['general.architecture', kv.str('llama')],
    ['general.name', kv.str(input.name)],
    // LLAMA_FTYPE_ALL_F32 = 0, LLAMA_FTYPE_MOSTLY_F16 = 1.
    ['general.file_type', kv.u32(matrixType === 'F16' ? 1 : 0)],
  ];
  if (input.description !== undefined) metadata.push(['general.description', kv.str(input.description)]);
  if (input.license !== undefined) metadata.push(['general.license', kv.str(input.license)]);
  metadata.push(
    ['llama.vocab_size', kv.u32(n)],
    ['llama.context_length', kv.u32(c.contextLength)],
    ['llama.embedding_length', kv.u32(c.embeddingLength)],
    ['llama.block_count', kv.u32(c.blockCount)],
    ['llama.feed_forward_length', kv.u32(c.feedForwardLength)],
    ['llama.rope.dimension_count', kv.u32(headDim)],
    ['llama.attention.head_count', kv.u32(c.headCount)],
    ['llama.attention.head_count_kv', kv.u32(c.headCount)],
    ['llama.attention.layer_norm_rms_epsilon', kv.f32(c.rmsEpsilon)],
    ['llama.rope.freq_base', kv.f32(c.ropeFreqBase)],
    ['tokenizer.ggml.model', kv.str('llama')],
    ['tokenizer.ggml.tokens', kv.strings(vocab.tokens)],
    ['tokenizer.ggml.scores', kv.f32s(vocab.scores)],
    ['tokenizer.ggml.token_type', kv.i32s(vocab.tokenTypes)],
    ['tokenizer.ggml.bos_token_id', kv.u32(vocab.bosId)],
    ['tokenizer.ggml.eos_token_id', kv.u32(vocab.eosId)],
    ['tokenizer.ggml.unknown_token_id', kv.u32(vocab.unkId)],
    ['tokenizer.ggml.add_bos_token', kv.bool(true)],
    ['tokenizer.ggml.add_eos_token', kv.bool(false)],
    // llama.cpp defaults SPM vocabularies to prepending a space; these models were trained without one.
    ['tokenizer.ggml.add_space_prefix', kv.bool(false)],
    ...(input.extraMetadata ?? []),
  );

  const tensors: GgufTensor[] = llamaTensorShapes(c, n).map(({ name, dims }) => {
    const data = input.weights(name);
    if (data === undefined) throw new LlamaGgufError(`missing weights for tensor '${name}'`);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new LlamaGgufError(`tensor '${name}' has ${data.length} values, expected ${expected} for dims [${dims.join(', ')}]`);
    return { name, dims, type: dims.length === 1 ? 'F32' : matrixType, data };
  });
  return { metadata, tensors };
}
