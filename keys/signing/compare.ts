import { KeyError } from '../errors.js';
import type { Resource } from './oms-types.js';

/** The file part of a resource name: the whole name for `files`, `path` of `path:start:end` for `shards`. */
export function resourceFile(name: string, method: 'files' | 'shards'): string {
  return method === 'files' ? name : name.slice(0, name.lastIndexOf(':', name.lastIndexOf(':') - 1));
}

/**
 * Every difference between the signed resources and the ones recomputed from disk, file by file: missing,
 * extra and mismatched files (for shards, a file whose shard list or any shard digest differs).
 */
export function compareResources(signed: readonly Resource[], local: readonly Resource[], method: 'files' | 'shards'): KeyError[] {
  const want = byFile(signed, method);
  const have = byFile(local, method);
  const errors: KeyError[] = [];
  for (const [file, digests] of want) {
    const got = have.get(file);
    if (got === undefined) errors.push(new KeyError('ERR_MODEL_FILE_MISSING', `${file} is signed but missing from the model`, { path: file }));
    else if (got !== digests) errors.push(new KeyError('ERR_MODEL_FILE_MISMATCH', `${file} differs from its signed digest`, { path: file }));
  }
  for (const file of have.keys()) {
    if (!want.has(file)) errors.push(new KeyError('ERR_MODEL_FILE_EXTRA', `${file} is in the model but not signed (and not ignored)`, { path: file }));
  }
  return errors;
}

/** file -> its resource names and digests joined, so equal strings mean equal shard lists. */
function byFile(resources: readonly Resource[], method: 'files' | 'shards'): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of resources) {
    const file = resourceFile(r.name, method);
    out.set(file, `${out.get(file) ?? ''}${r.name}=${r.digest};`);
  }
  return out;
}
