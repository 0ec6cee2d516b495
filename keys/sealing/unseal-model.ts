import { join, resolve } from 'node:path';
import { KeyError, wipe } from '../errors.js';
import type { DataKeyUnwrapper, KeyReference } from './data-keys.js';
import { type Progress, progressCounter, withPool } from './run-options.js';
import { readContainerHeader } from './open-file.js';
import { containerName, listContainers, loadSealedStatement } from './sealed-dir.js';
import type { SinkFactory } from './sinks.js';
import { type UnsealedFileInfo, unsealFile } from './unseal-file.js';
import type { ChunkPool } from './worker-pool.js';

export interface UnsealModelOptions {
  /** Supplies the data key: unwraps RSA-OAEP-256 or releases the `dir` key named by kid. */
  readonly key: DataKeyUnwrapper;
  /** Where plaintext goes (memory, a tmpfs directory, streams); nothing else is written. */
  readonly sink: SinkFactory;
  readonly threads?: number | 'auto';
  readonly pool?: ChunkPool | null;
  readonly onProgress?: (p: Progress) => void;
}

export interface UnsealedModel {
  readonly rootDigest: string;
  readonly signed: boolean;
  readonly files: readonly UnsealedFileInfo[];
  readonly threads: number;
}

/**
 * Unseals a sealed model: the containers must be exactly the manifest's files; each must carry the
 * manifest's root digest (and bundle hash), open with the data key, authenticate every chunk and hash
 * to its manifest digest. The signature itself is not checked here: verify `model.sig` against pinned
 * trust (verifyModel) before trusting the root digest.
 */
export async function unsealModel(sealedDir: string, o: UnsealModelOptions): Promise<UnsealedModel> {
  const dir = resolve(sealedDir);
  const st = await loadSealedStatement(dir);
  const m = st.manifest;
  const paths = await containerPaths(dir, st.manifest.resources.map((r) => r.name), m.modelName);
  let total = 0;
  for (const p of paths) total += (await readContainerHeader(p)).plaintextSize;
  const key = cachingUnwrapper(o.key);
  const onBytes = progressCounter('unseal', total, o.onProgress);
  try {
    return await withPool(o, async (pool) => {
      const files: UnsealedFileInfo[] = [];
      for (const [i, r] of m.resources.entries()) {
        const path = paths[i]!;
        const expect = { name: r.name, omsRootDigest: m.rootDigest, sha256: r.digest, ...(st.bundleSha256 ? { omsBundleSha256: st.bundleSha256 } : {}) };
        files.push(await unsealFile(path, { key, expect, sink: o.sink, pool, onBytes }));
      }
      return { rootDigest: m.rootDigest, signed: st.signed, files, threads: pool?.threads ?? 0 };
    });
  } finally {
    key.wipe();
  }
}

/** The container of every manifest file, in manifest order; any missing or unexpected container fails. */
async function containerPaths(dir: string, names: readonly string[], modelName: string): Promise<string[]> {
  const found = await listContainers(dir);
  const wanted = names.map((n) => containerName(n, modelName));
  const files = new Set(found.keys());
  for (const [i, w] of wanted.entries()) if (!files.has(w)) throw new KeyError('ERR_SEAL_FILE_MISSING', `${names[i]} has no sealed container`, { path: names[i]! });
  const known = new Set(wanted);
  for (const f of files) if (!known.has(f)) throw new KeyError('ERR_SEAL_FILE_UNEXPECTED', `${f} is not a container of a manifest file`, { path: f });
  return wanted.map((w) => join(dir, ...w.split('/')));
}

/** Every container of a model shares one data key: unwrap (or release) it once, wipe it at the end. */
function cachingUnwrapper(inner: DataKeyUnwrapper): DataKeyUnwrapper & { wipe(): void } {
  const cache = new Map<string, Buffer>();
  const id = (r: KeyReference) => `${r.wrap}|${r.kid}|${r.wrappedKey?.toString('base64') ?? ''}`;
  return {
    unwrap: async (ref) => {
      let k = cache.get(id(ref));
      if (!k) {
        k = await inner.unwrap(ref);
        cache.set(id(ref), k);
      }
      return Buffer.from(k);
    },
    wipe: () => {
      for (const k of cache.values()) wipe(k);
      cache.clear();
    },
  };
}
