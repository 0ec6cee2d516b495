import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../../keys/signing/manifest.js';
import { statementJson } from '../../../keys/signing/statement.js';
import { HAS_MS_VECTORS, cleanupTemp, msFile, tempDir, writeTree } from '../fixtures.js';

const K = 'This is a simple model';

/** The upstream fixtures (tests/conftest.py), rebuilt from PROVENANCE.md's recipes. */
function fixture(name: string): string {
  const base = tempDir('zt4ai-golden-');
  switch (name) {
    case 'sample_model_file':
      return writeTree(base, { file_model: K }) && join(base, 'file_model');
    case 'empty_model_file':
      return writeTree(base, { empty_file_model: '' }) && join(base, 'empty_file_model');
    case 'sample_model_folder': {
      const files: Record<string, string> = {};
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) files[`d${i}/f${i}${j}`] = `This is file f${i}${j} in d${i}.`;
      for (let i = 0; i < 4; i++) files[`f${i}`] = `This is file f${i} in root.`;
      return writeTree(join(base, 'sample_model'), files);
    }
    case 'empty_model_folder': {
      mkdirSync(join(base, 'empty_folder_model'));
      return join(base, 'empty_folder_model');
    }
    case 'model_folder_with_empty_file':
      return writeTree(join(base, 'empty_file_inside_model'), { empty_file: '' });
    case 'deep_model_folder': {
      const files: Record<string, string> = {};
      for (let i = 0; i < 4; i++) files[`d0/d1/d2/d3/d4/f${i}`] = `This is file f${i}.`;
      return writeTree(join(base, 'deep_model'), files);
    }
    case 'symlink_model_folder': {
      writeFileSync(join(base, 'external'), K);
      mkdirSync(join(base, 'symlink_model'));
      symlinkSync(join(base, 'external'), join(base, 'symlink_model', 'symlink_file'));
      return join(base, 'symlink_model');
    }
    default:
      throw new Error(name);
  }
}

const FIXTURES = ['sample_model_file', 'empty_model_file', 'sample_model_folder', 'empty_model_folder', 'model_folder_with_empty_file', 'deep_model_folder', 'symlink_model_folder'];
const VARIANTS = [
  ['', { method: 'files' }],
  ['_shard', { method: 'shards', shardSize: 1_000_000_000 }],
  ['_small_shards', { method: 'shards', shardSize: 8 }],
] as const;

describe.skipIf(!HAS_MS_VECTORS)('the 21 upstream payload goldens are reproduced byte for byte', () => {
  afterAll(cleanupTemp);
  for (const f of FIXTURES) {
    for (const [suffix, opts] of VARIANTS) {
      it(`${f}${suffix}`, async () => {
        const manifest = await buildManifest(fixture(f), { ...opts, allowSymlinks: true });
        const golden = readFileSync(msFile('payload-goldens', `${f}${suffix}.json`), 'utf8');
        expect(`${statementJson(manifest)}\n`).toBe(golden);
      });
    }
  }
});
