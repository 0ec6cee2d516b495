import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { KeyError, wipe } from '../errors.js';
import { type ChunkContext, sealChunkInPlace } from './chunk-cipher.js';
import { NONCE_PREFIX_LENGTH, SALT_LENGTH, TAG_LENGTH, chunkCount, chunkOffset, chunkPlainLength } from './format.js';
import { encodeHeader } from './header.js';
import { commitTag, deriveFileKeys, keyCheckValue } from './kdf.js';
import type { SealMeta } from './meta.js';
import { chunkTransform, pipelineDepth, runOrdered } from './pipeline.js';
import type { ChunkPool } from './worker-pool.js';

export interface SealFileOptions {
  readonly source: string;
  /** Written as `<target>` via a temporary name; an existing file is refused. */
  readonly target: string;
  readonly dataKey: Uint8Array;
  readonly meta: SealMeta;
  readonly chunkSize: number;
  /** SHA-256 (hex) the plaintext must have: the digest in the OMS manifest. */
  readonly expectedSha256: string;
  readonly pool?: ChunkPool | null;
  readonly onBytes?: (n: number) => void;
  /**
   * Test vectors only: fixed salt and nonce prefix instead of fresh random ones. Reusing them with the
   * same data key and name reuses GCM nonces; never use this for real models.
   */
  readonly fixedRandomness?: { readonly salt: Buffer; readonly noncePrefix: Buffer };
}

export interface SealedFileInfo {
  readonly name: string;
  readonly size: number;
  readonly chunks: number;
  readonly target: string;
}

/**
 * Seals one model file into one container, streaming: read and hash on this thread, encrypt chunks in
 * place (inline or on the pool), write them at their offsets. The plaintext must hash to the manifest's
 * digest, else nothing is left behind (ERR_SEAL_SOURCE_CHANGED).
 */
export async function sealFile(o: SealFileOptions): Promise<SealedFileInfo> {
  const src = await open(o.source, 'r').catch(ioError(o.source));
  try {
    const size = (await src.stat()).size;
    const salt = o.fixedRandomness?.salt ?? randomBytes(SALT_LENGTH);
    const noncePrefix = o.fixedRandomness?.noncePrefix ?? randomBytes(NONCE_PREFIX_LENGTH);
    const header = encodeHeader({ chunkSize: o.chunkSize, plaintextSize: size, salt, noncePrefix, meta: o.meta });
    const keys = deriveFileKeys(o.dataKey, salt, o.meta.name);
    const prelude = Buffer.concat([header, keyCheckValue(o.dataKey), commitTag(keys.commit, header)]);
    const ctx: ChunkContext = { key: createSecretKey(keys.enc), noncePrefix, headerHash: createHash('sha256').update(header).digest(), chunkCount: chunkCount(size, o.chunkSize) };
    wipe(keys.enc, keys.commit);
    const temp = `${o.target}.${randomBytes(6).toString('hex')}.sealing`;
    const out = await open(temp, 'wx', 0o644).catch(ioError(temp));
    try {
      await out.write(prelude, 0, prelude.length, 0);
      await sealChunks(src, out, ctx, header.length, size, o);
      await out.close();
      await rename(temp, o.target).catch(ioError(o.target));
    } catch (e) {
      await out.close().catch(() => {});
      await rm(temp, { force: true });
      throw e;
    }
    return { name: o.meta.name, size, chunks: ctx.chunkCount, target: o.target };
  } finally {
    await src.close();
  }
}

async function sealChunks(src: FileHandle, out: FileHandle, ctx: ChunkContext, headerLength: number, size: number, o: SealFileOptions): Promise<void> {
  const pool = o.pool ?? null;
  const ctxId = pool ? pool.addContext(ctx.key, ctx.noncePrefix, ctx.headerHash, ctx.chunkCount) : 0;
  const hash = createHash('sha256');
  try {
    await runOrdered({
      count: ctx.chunkCount,
      bufferSize: o.chunkSize + TAG_LENGTH,
      depth: pipelineDepth(pool),
      read: async (slot) => {
        slot.length = chunkPlainLength(size, o.chunkSize, slot.index);
        const { bytesRead } = await src.read(slot.buf, 0, slot.length, slot.index * o.chunkSize);
        if (bytesRead !== slot.length) throw new KeyError('ERR_SEAL_SOURCE_CHANGED', `${o.meta.name} shrank while it was being sealed`, { path: o.meta.name });
        hash.update(slot.buf.subarray(0, slot.length));
      },
      transform: chunkTransform(pool, ctxId, 'seal', (slot) => {
        sealChunkInPlace(ctx, slot.index, slot.buf, slot.length);
        return true;
      }),
      consume: async (slot) => {
        await out.write(slot.buf, 0, slot.length + TAG_LENGTH, chunkOffset(headerLength, o.chunkSize, slot.index));
        o.onBytes?.(slot.length);
      },
    });
  } finally {
    if (pool) pool.dropContext(ctxId);
  }
  if (hash.digest('hex') !== o.expectedSha256) throw new KeyError('ERR_SEAL_SOURCE_CHANGED', `${o.meta.name} no longer matches its manifest digest`, { path: o.meta.name });
}

function ioError(path: string): (cause: unknown) => never {
  return (cause) => {
    throw new KeyError('ERR_SEAL_IO', `cannot open ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path });
  };
}
