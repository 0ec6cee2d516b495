import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { sha256Ranges } from './file-hash.js';
import { type ModelFile, listModelFiles, normalizeIgnorePaths } from './model-walk.js';
import { DEFAULT_SHARD_SIZE, type Manifest, type Resource, type Serialization } from './oms-types.js';
import { comparePosixPaths, compareShards } from './path-order.js';

export interface ManifestOptions {
  readonly method?: 'files' | 'shards';
  readonly shardSize?: number;
  readonly allowSymlinks?: boolean;
  /** Paths not hashed (relative to the model root). */
  readonly ignorePaths?: readonly string[];
  /** Record `ignorePaths` in the serialization (signers since 1.1.0 do; the upstream goldens do not). */
  readonly recordIgnorePaths?: boolean;
  /** Progress: bytes hashed so far are reported as they are read. */
  readonly onBytes?: (n: number) => void;
}

/** Root digest: SHA-256 over the hex-decoded resource digests in listed order, whatever the hash type. */
export function rootDigestOf(resources: readonly Resource[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

/** Hashes a model (file or directory) into an OMS manifest, streaming every file. */
export async function buildManifest(modelPath: string, options: ManifestOptions = {}): Promise<Manifest> {
  const root = resolve(modelPath);
  const ignore = normalizeIgnorePaths(root, options.ignorePaths ?? []).sort();
  const serialization = serializationFor(options, ignore);
  const files = await listModelFiles(root, { ignorePaths: ignore, allowSymlinks: serialization.allowSymlinks });
  const resources = serialization.method === 'files' ? await fileResources(files, options.onBytes) : await shardResources(files, serialization.shardSize!, options.onBytes);
  return { modelName: basename(root), serialization, resources, rootDigest: rootDigestOf(resources) };
}

/** The model's files sorted as the reference sorts them, without hashing. */
export async function listSortedModelFiles(modelPath: string, options: Pick<ManifestOptions, 'ignorePaths' | 'allowSymlinks'> = {}): Promise<ModelFile[]> {
  const root = resolve(modelPath);
  const files = await listModelFiles(root, { ignorePaths: normalizeIgnorePaths(root, options.ignorePaths ?? []), allowSymlinks: Boolean(options.allowSymlinks) });
  return files.sort((a, b) => comparePosixPaths(a.name, b.name));
}

function serializationFor(options: ManifestOptions, ignore: string[]): Serialization {
  const base = { method: options.method ?? 'files', hashType: 'sha256', allowSymlinks: Boolean(options.allowSymlinks) } as const;
  const withShards = base.method === 'shards' ? { ...base, shardSize: options.shardSize ?? DEFAULT_SHARD_SIZE } : base;
  return options.recordIgnorePaths ? { ...withShards, ignorePaths: ignore } : withShards;
}

async function fileResources(files: ModelFile[], onBytes?: (n: number) => void): Promise<Resource[]> {
  const sorted = [...files].sort((a, b) => comparePosixPaths(a.name, b.name));
  const out: Resource[] = [];
  for (const f of sorted) {
    const [whole] = await sha256Ranges(f.path, Number.POSITIVE_INFINITY, onBytes);
    out.push({ name: f.name, algorithm: 'sha256', digest: whole!.digest });
  }
  return out;
}

/** Empty files yield no shard at all, as in the reference (so they are invisible in shard mode). */
async function shardResources(files: ModelFile[], shardSize: number, onBytes?: (n: number) => void): Promise<Resource[]> {
  const shards: Array<{ path: string; start: number; end: number; digest: string }> = [];
  for (const f of files) {
    for (const r of await sha256Ranges(f.path, shardSize, onBytes)) if (r.end > r.start) shards.push({ path: f.name, ...r });
  }
  shards.sort(compareShards);
  return shards.map((s) => ({ name: `${s.path}:${s.start}:${s.end}`, algorithm: `sha256-sharded-${shardSize}`, digest: s.digest }));
}
