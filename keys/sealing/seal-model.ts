import { createHash } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { KeyError, wipe } from '../errors.js';
import { parseBundle } from '../signing/bundle.js';
import { buildManifest } from '../signing/manifest.js';
import { listModelFiles } from '../signing/model-walk.js';
import { DEFAULT_IGNORE_PATHS, type Manifest } from '../signing/oms-types.js';
import { type SignOptions, signModel } from '../signing/sign.js';
import { parseStatement, statementJson } from '../signing/statement.js';
import { type DataKeyWrapper, generateDataKey } from './data-keys.js';
import { DEFAULT_CHUNK_SIZE, SIGNATURE_FILE, UNSIGNED_MANIFEST_FILE, isValidChunkSize } from './format.js';
import type { SealMeta } from './meta.js';
import { type Progress, progressCounter, withPool } from './run-options.js';
import { type SealedFileInfo, sealFile } from './seal-file.js';
import { containerName } from './sealed-dir.js';
import type { ChunkPool } from './worker-pool.js';

/** The model's data key: fresh and wrapped into every header, or an `oct` key a key service holds (`dir`). */
export type SealKey = { readonly wrapper: DataKeyWrapper } | { readonly direct: { readonly kid: string; readonly dataKey: Uint8Array } };

export interface SealModelOptions {
  /** Created; must not exist or be empty, and must not overlap the model. */
  readonly outDir: string;
  readonly key: SealKey;
  /** Sign the plaintext model first (OMS key mode); the bundle becomes `model.sig`. */
  readonly sign?: Pick<SignOptions, 'privateKey' | 'certificateChain'>;
  /** An existing OMS bundle of the model; sealing enforces its digests and ships it as `model.sig`. */
  readonly bundle?: string | Buffer;
  /** Paths left out of the manifest when it is computed here (the defaults .git etc. always are). */
  readonly ignorePaths?: readonly string[];
  readonly chunkSize?: number;
  /** Worker threads: a number, or 'auto' (one per free core; default). 0 = this thread only. */
  readonly threads?: number | 'auto';
  /** Reuse a pool across calls (it is not closed). */
  readonly pool?: ChunkPool | null;
  readonly onProgress?: (p: Progress) => void;
}

export interface SealedModel {
  readonly outDir: string;
  readonly rootDigest: string;
  readonly kid: string;
  readonly wrap: SealMeta['wrap'];
  readonly chunkSize: number;
  readonly statementFile: string;
  readonly bundleSha256?: string;
  readonly files: readonly SealedFileInfo[];
  readonly threads: number;
}

/**
 * Seals a model directory (or single file): settles its OMS manifest (signing it, taking a given bundle,
 * or computing an unsigned one), then seals every manifest file into `<outDir>/<name>.sealed` under one
 * data key, each container bound to the root digest (and bundle). The data key is wiped at the end.
 */
export async function sealModel(modelPath: string, o: SealModelOptions): Promise<SealedModel> {
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!isValidChunkSize(chunkSize)) throw new KeyError('ERR_SEAL_OPTIONS', `chunk size ${chunkSize} is not a power of two in 64 KiB..16 MiB`);
  const root = resolve(modelPath);
  const outDir = resolve(o.outDir);
  await checkOutDir(root, outDir);
  const { manifest, statement, bundleSha256 } = await settleManifest(root, o);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, bundleSha256 ? SIGNATURE_FILE : UNSIGNED_MANIFEST_FILE), statement);
  const { dataKey, kid, wrap, wrappedKey } = await dataKeyFor(o.key);
  try {
    const onBytes = progressCounter('seal', await totalSize(root, manifest), o.onProgress);
    return await withPool(o, async (pool) => {
      const files: SealedFileInfo[] = [];
      for (const r of manifest.resources) {
        const target = join(outDir, containerName(r.name, manifest.modelName));
        await mkdir(dirname(target), { recursive: true });
        const meta: SealMeta = { name: r.name, kid, wrap, ...(wrappedKey ? { wrappedKey } : {}), omsRootDigest: manifest.rootDigest, ...(bundleSha256 ? { omsBundleSha256: bundleSha256 } : {}) };
        files.push(await sealFile({ source: sourceOf(root, r.name), target, dataKey, meta, chunkSize, expectedSha256: r.digest, pool, onBytes }));
      }
      return { outDir, rootDigest: manifest.rootDigest, kid, wrap, chunkSize, statementFile: bundleSha256 ? SIGNATURE_FILE : UNSIGNED_MANIFEST_FILE, ...(bundleSha256 ? { bundleSha256 } : {}), files, threads: pool?.threads ?? 0 };
    });
  } finally {
    if ('wrapper' in o.key) wipe(dataKey);
  }
}

async function settleManifest(root: string, o: SealModelOptions): Promise<{ manifest: Manifest; statement: Buffer; bundleSha256?: string }> {
  let manifest: Manifest;
  let statement: Buffer;
  let signed = true;
  if (o.bundle !== undefined) {
    statement = Buffer.from(o.bundle);
    const st = parseStatement(parseBundle(statement).payload);
    if (st.problems.length > 0) throw st.problems[0];
    manifest = st.manifest;
  } else {
    const onBytes = progressCounter('hash', await modelBytes(root), o.onProgress);
    const ignorePaths = [...DEFAULT_IGNORE_PATHS, ...(o.ignorePaths ?? [])];
    if (o.sign) {
      const s = await signModel(root, { ...o.sign, ignorePaths, signatureFile: join(root, SIGNATURE_FILE), onBytes });
      manifest = s.manifest;
      statement = Buffer.from(s.bundleJson);
    } else {
      manifest = await buildManifest(root, { ignorePaths: [...ignorePaths, SIGNATURE_FILE], recordIgnorePaths: true, onBytes });
      statement = Buffer.from(statementJson(manifest));
      signed = false;
    }
  }
  if (manifest.serialization.method !== 'files') throw new KeyError('ERR_SEAL_MANIFEST', 'sealing needs an OMS files manifest, not shards');
  return signed ? { manifest, statement, bundleSha256: createHash('sha256').update(statement).digest('hex') } : { manifest, statement };
}

async function dataKeyFor(key: SealKey): Promise<{ dataKey: Uint8Array; kid: string; wrap: SealMeta['wrap']; wrappedKey?: Buffer }> {
  if ('direct' in key) return { dataKey: key.direct.dataKey, kid: key.direct.kid, wrap: 'dir' };
  const dataKey = generateDataKey();
  try {
    return { dataKey, kid: key.wrapper.kid, wrap: key.wrapper.alg, wrappedKey: await key.wrapper.wrap(dataKey) };
  } catch (e) {
    wipe(dataKey);
    throw e;
  }
}

function sourceOf(root: string, name: string): string {
  return name === '.' ? root : join(root, ...name.split('/'));
}

async function checkOutDir(root: string, outDir: string): Promise<void> {
  const inside = (a: string, b: string) => a === b || a.startsWith(`${b}${sep}`);
  if (inside(outDir, root) || inside(root, outDir)) throw new KeyError('ERR_SEAL_OPTIONS', `output ${outDir} and model ${root} must not contain each other`);
  const entries = await readdir(outDir).catch(() => []);
  if (entries.length > 0) throw new KeyError('ERR_SEAL_OPTIONS', `output directory ${outDir} is not empty`);
  if (relative(root, outDir) === '') throw new KeyError('ERR_SEAL_OPTIONS', 'output and model are the same');
}

async function totalSize(root: string, m: Manifest): Promise<number> {
  let total = 0;
  for (const r of m.resources) total += (await stat(sourceOf(root, r.name)).catch(() => ({ size: 0 }))).size;
  return total;
}

async function modelBytes(root: string): Promise<number> {
  const files = await listModelFiles(root, { ignorePaths: [...DEFAULT_IGNORE_PATHS], allowSymlinks: true }).catch(() => []);
  return files.reduce((n, f) => n + f.size, 0);
}
