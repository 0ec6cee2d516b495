import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { characterVocabulary } from '../../../simulator/model/index.js';
import { REPO_ROOT } from '../../helpers/shared.js';
import { readGguf } from './gguf-reader.js';
import { complete, loadLlama } from './llama-cpp.js';

const MODEL = resolve(REPO_ROOT, 'models/demo/zt4ai-demo-kjv.gguf');

describe('the committed demo model', () => {
  it('is a llama GGUF under 10 MB with a context of at least 256 and the shared vocabulary', () => {
    expect(statSync(MODEL).size).toBeLessThan(10 * 1024 * 1024);
    const g = readGguf(readFileSync(MODEL));
    const meta = (key: string): unknown => g.metadata.get(key)?.value;
    expect(g.version).toBe(3);
    expect(meta('general.architecture')).toBe('llama');
    expect(meta('llama.context_length')).toBeGreaterThanOrEqual(256);
    expect(meta('tokenizer.ggml.model')).toBe('llama');
    expect(meta('tokenizer.ggml.tokens')).toEqual(characterVocabulary().tokens);
    expect(meta('tokenizer.ggml.add_space_prefix')).toBe(false);
    const last = g.tensors.at(-1)!;
    expect(statSync(MODEL).size).toBe(last.start + Math.ceil((last.dims.reduce((a, b) => a * b, 1) * (last.type === 1 ? 2 : 4)) / 32) * 32);
  });

  it('loads in llama.cpp and continues "In the beginning" with words', async () => {
    const { lib, llama } = await loadLlama();
    const model = await llama.loadModel({ modelPath: MODEL });
    try {
      const { text } = await complete(lib, model, 'In the beginning', 48);
      expect(text.length).toBeGreaterThan(20);
      expect(text).toMatch(/^[ -~\n]+$/);
      expect(text).toMatch(/\b(the|and|of|God|LORD|unto)\b/);
    } finally {
      await model.dispose();
      await llama.dispose();
    }
  });
});
