import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { KeyError } from '../errors.js';

/** Read size for hashing: only affects speed (the reference uses 1 MiB too). */
const READ_SIZE = 1 << 20;

/** A byte range of a file and its SHA-256 (hex). */
export interface RangeDigest {
  readonly start: number;
  readonly end: number;
  readonly digest: string;
}

/**
 * SHA-256 of a whole file, streaming through one reused buffer so memory stays bounded whatever its size.
 * `onBytes` reports progress.
 */
export async function sha256File(path: string, onBytes?: (n: number) => void): Promise<string> {
  const [only] = await sha256Ranges(path, Number.POSITIVE_INFINITY, onBytes);
  return only!.digest;
}

/**
 * SHA-256 of consecutive `shardSize` ranges of a file (OMS `shards` serialization). With an infinite shard
 * size this is the whole file. An empty file yields one empty range (the caller drops it for shards).
 */
export async function sha256Ranges(path: string, shardSize: number, onBytes?: (n: number) => void): Promise<RangeDigest[]> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new KeyError('ERR_MODEL_UNREADABLE', `cannot open ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path });
  }
  try {
    return await hashOpenFile(fh, path, shardSize, onBytes);
  } finally {
    await fh.close();
  }
}

async function hashOpenFile(fh: Awaited<ReturnType<typeof open>>, path: string, shardSize: number, onBytes?: (n: number) => void): Promise<RangeDigest[]> {
  const buf = Buffer.allocUnsafe(READ_SIZE);
  const out: RangeDigest[] = [];
  let pos = 0;
  let start = 0;
  let hash = createHash('sha256');
  for (;;) {
    const want = Math.min(READ_SIZE, start + shardSize - pos);
    const { bytesRead } = await readAt(fh, path, buf, want, pos);
    if (bytesRead === 0) {
      if (pos > start || out.length === 0) out.push({ start, end: pos, digest: hash.digest('hex') });
      return out;
    }
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
    onBytes?.(bytesRead);
    if (pos - start === shardSize) {
      out.push({ start, end: pos, digest: hash.digest('hex') });
      start = pos;
      hash = createHash('sha256');
    }
  }
}

async function readAt(fh: Awaited<ReturnType<typeof open>>, path: string, buf: Buffer, length: number, position: number): Promise<{ bytesRead: number }> {
  try {
    return await fh.read(buf, 0, length, position);
  } catch (cause) {
    throw new KeyError('ERR_MODEL_UNREADABLE', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path });
  }
}
