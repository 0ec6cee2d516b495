import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { directKeyUnwrapper, generateDataKey } from '../../../keys/sealing/data-keys.js';
import { sealFile } from '../../../keys/sealing/seal-file.js';
import { sealModel } from '../../../keys/sealing/seal-model.js';
import { memorySink } from '../../../keys/sealing/sinks.js';
import { unsealFile } from '../../../keys/sealing/unseal-file.js';
import { unsealModel } from '../../../keys/sealing/unseal-model.js';
import { ChunkPool } from '../../../keys/sealing/worker-pool.js';
import { REPO_ROOT } from '../../helpers/shared.js';
import { cleanupTemp, pattern, tempDir, writeTree } from '../fixtures.js';
import { codeOf, flipAt } from './helpers.js';

const CHUNK = 64 * 1024;

describe('worker threads', () => {
  afterAll(cleanupTemp);

  it('start from TypeScript sources (vitest) and give byte-identical containers and plaintext', async () => {
    const pool = await ChunkPool.start({ threads: 2 });
    expect(pool).not.toBeNull();
    try {
      const dir = tempDir();
      const plain = pattern(20 * CHUNK + 77, 3);
      writeFileSync(join(dir, 'f'), plain);
      const sha = createHash('sha256').update(plain).digest('hex');
      const dataKey = generateDataKey();
      const meta = { name: 'f', kid: 'k', wrap: 'dir', omsRootDigest: '00'.repeat(32) } as const;
      const one = join(dir, 'one.sealed');
      const many = join(dir, 'many.sealed');
      const fixedRandomness = { salt: Buffer.alloc(32, 5), noncePrefix: Buffer.alloc(7, 6) };
      await sealFile({ source: join(dir, 'f'), target: one, dataKey, meta, chunkSize: CHUNK, expectedSha256: sha, pool: null, fixedRandomness });
      await sealFile({ source: join(dir, 'f'), target: many, dataKey, meta, chunkSize: CHUNK, expectedSha256: sha, pool, fixedRandomness });
      const b = readFileSync(many);
      expect(b.equals(readFileSync(one))).toBe(true);
      const outs: Buffer[] = [];
      for (const [path, p] of [[one, null], [many, pool], [one, pool], [many, null]] as const) {
        const mem = memorySink();
        await unsealFile(path, { key: dataKey, expect: { sha256: sha }, sink: mem.factory, pool: p });
        outs.push(mem.files.get('f')!);
      }
      for (const o of outs) expect(o.equals(plain)).toBe(true);
      flipAt(many, b.length - 5000);
      expect(await codeOf(() => unsealFile(many, { key: dataKey, sink: memorySink().factory, pool }))).toBe('ERR_SEAL_CHUNK_CORRUPT');
    } finally {
      await pool?.close();
    }
  });

  it('a whole model sealed on workers unseals single-threaded and the other way round', async () => {
    const model = writeTree(join(tempDir(), 'm'), { a: pattern(9 * CHUNK + 5, 1), 'b/c': pattern(3, 2), d: '' });
    const dataKey = generateDataKey();
    const s1 = join(tempDir(), 's1');
    const r = await sealModel(model, { outDir: s1, key: { direct: { kid: 'k', dataKey } }, chunkSize: CHUNK, threads: 1 });
    expect(r.threads).toBe(1);
    const mem = memorySink();
    const u = await unsealModel(s1, { key: directKeyUnwrapper({ k: dataKey }), sink: mem.factory, threads: 0 });
    expect(u.threads).toBe(0);
    const mem2 = memorySink();
    await unsealModel(s1, { key: directKeyUnwrapper({ k: dataKey }), sink: mem2.factory, threads: 2 });
    for (const name of ['a', 'b/c', 'd']) {
      expect(mem.files.get(name)!.equals(readFileSync(join(model, name)))).toBe(true);
      expect(mem2.files.get(name)!.equals(mem.files.get(name)!)).toBe(true);
    }
  });

  it('falls back to a single thread when the worker entry cannot be loaded', async () => {
    const pool = await ChunkPool.start({ threads: 1, workerUrl: pathToFileURL(join(tempDir(), 'missing-worker.js')), startTimeoutMs: 5000 });
    expect(pool).toBeNull();
  });

  it('start from compiled JavaScript (dist layout): keys/ compiled alone, then sealed and unsealed on a worker', () => {
    const out = tempDir('zt4ai-dist-');
    const tsc = resolve(REPO_ROOT, 'node_modules/.bin/tsc');
    // The worker entry is loaded by URL, never imported: tsconfig.build.json compiles it because it includes keys/.
    const files = ['keys/errors.ts', 'keys/sealing/index.ts', 'keys/sealing/chunk-worker.ts'].map((f) => resolve(REPO_ROOT, f));
    const args = ['--ignoreConfig', '--outDir', out, '--rootDir', REPO_ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--skipLibCheck', '--types', 'node', ...files];
    const c = spawnSync(tsc, args, { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(c.status, `${c.stdout}${c.stderr}`).toBe(0);
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    const script = `
      import { writeFileSync } from 'node:fs';
      import { createHash } from 'node:crypto';
      import { ChunkPool, sealFile, unsealFile, memorySink } from ${JSON.stringify(pathToFileURL(join(out, 'keys/sealing/index.js')).href)};
      const pool = await ChunkPool.start({ threads: 1 });
      if (!pool) throw new Error('no pool from dist');
      const plain = Buffer.alloc(300000, 7);
      writeFileSync(${JSON.stringify(join(out, 'p'))}, plain);
      const sha = createHash('sha256').update(plain).digest('hex');
      const dataKey = Buffer.alloc(32, 1);
      const meta = { name: 'p', kid: 'k', wrap: 'dir', omsRootDigest: '00'.repeat(32) };
      await sealFile({ source: ${JSON.stringify(join(out, 'p'))}, target: ${JSON.stringify(join(out, 'p.sealed'))}, dataKey, meta, chunkSize: 65536, expectedSha256: sha, pool });
      const mem = memorySink();
      await unsealFile(${JSON.stringify(join(out, 'p.sealed'))}, { key: dataKey, expect: { sha256: sha }, sink: mem.factory, pool });
      await pool.close();
      console.log(mem.files.get('p').equals(plain) ? 'DIST-OK' : 'DIST-BAD');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: out, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('DIST-OK');
  });
});
