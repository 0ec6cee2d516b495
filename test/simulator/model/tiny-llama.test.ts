import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCharacters, writeTinyLlamaGguf } from '../../../simulator/model/index.js';
import { readGguf } from './gguf-reader.js';
import { type NodeLlamaCpp, complete, loadLlama } from './llama-cpp.js';

const dir = mkdtempSync(join(tmpdir(), 'zt4ai-tiny-llama-'));
const modelPath = join(dir, 'tiny.gguf');
const summary = writeTinyLlamaGguf(modelPath, { seed: 'test' });

describe('writeTinyLlamaGguf', () => {
  let lib: NodeLlamaCpp;
  let llama: Llama;
  let model: LlamaModel;

  beforeAll(async () => {
    ({ lib, llama } = await loadLlama());
    model = await llama.loadModel({ modelPath });
  });
  afterAll(async () => {
    await model?.dispose();
    await llama?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is small, deterministic for a seed and different for another seed', () => {
    expect(summary.bytes).toBeLessThan(400_000);
    const again = join(dir, 'again.gguf');
    const other = join(dir, 'other.gguf');
    writeTinyLlamaGguf(again, { seed: 'test' });
    writeTinyLlamaGguf(other, { seed: 'other' });
    expect(readFileSync(again).equals(readFileSync(modelPath))).toBe(true);
    expect(readFileSync(other).equals(readFileSync(modelPath))).toBe(false);
    const g = readGguf(readFileSync(modelPath), { metadataOnly: true });
    expect(g.metadata.get('general.architecture')?.value).toBe('llama');
    expect(g.metadata.get('llama.context_length')?.value).toBe(256);
    expect(g.metadata.get('llama.block_count')?.value).toBe(2);
  });

  it('loads in llama.cpp with the demo tokenizer: ids and text round-trip', () => {
    const text = 'In the beginning God created the heaven and the earth.\nAnd God said, Let there be light: and there was light.\n';
    const ids = model.tokenize(text);
    expect([...ids]).toEqual(encodeCharacters(text));
    expect(model.detokenize(ids)).toBe(text);
    expect(model.tokens.bos).toBe(1);
    expect(model.tokens.eos).toBe(2);
    expect(model.trainContextSize).toBe(256);
  });

  it('generates tokens', async () => {
    const { tokens } = await complete(lib, model, 'Hello', 8, 1);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(8);
  });
});
