import { createHash } from 'node:crypto';
import { KeyError } from '../errors.js';
import { openChunkInPlace } from './chunk-cipher.js';
import type { DataKeyUnwrapper } from './data-keys.js';
import { TAG_LENGTH } from './format.js';
import { type ExpectedBinding, SealedFileReader } from './open-file.js';
import { chunkTransform, pipelineDepth, runOrdered } from './pipeline.js';
import type { PlaintextSink, SinkFactory } from './sinks.js';
import type { ChunkPool } from './worker-pool.js';

export interface UnsealFileOptions {
  readonly key: Uint8Array | DataKeyUnwrapper;
  /** Name, model root digest and bundle hash the container must carry, and the plaintext's OMS digest. */
  readonly expect?: ExpectedBinding & { readonly sha256?: string };
  readonly sink: SinkFactory;
  readonly pool?: ChunkPool | null;
  readonly onBytes?: (n: number) => void;
}

export interface UnsealedFileInfo {
  readonly name: string;
  readonly size: number;
  readonly chunks: number;
  /** SHA-256 of the plaintext (hex), computed in the same pass as the decryption. */
  readonly sha256: string;
}

/**
 * Unseals one container in one pass: commitment checked before any chunk, then every chunk decrypted and
 * authenticated (inline or on the pool) and the plaintext hashed in order on its way to the sink. The sink
 * commits only when the whole file matches the expected OMS digest.
 */
export async function unsealFile(path: string, o: UnsealFileOptions): Promise<UnsealedFileInfo> {
  const reader = await SealedFileReader.open(path, o.key, o.expect ?? {});
  try {
    const { name, size } = { name: reader.header.meta.name, size: reader.header.plaintextSize };
    const sink = await o.sink({ name, size });
    try {
      const sha256 = await streamChunks(reader, sink, o);
      if (o.expect?.sha256 !== undefined && sha256 !== o.expect.sha256) {
        throw new KeyError('ERR_SEAL_DIGEST_MISMATCH', `${name} decrypts to content that differs from its signed digest`, { path: name });
      }
      await sink.commit();
      return { name, size, chunks: reader.chunkCount, sha256 };
    } catch (e) {
      await sink.abort(e as Error);
      throw e;
    }
  } finally {
    await reader.close();
  }
}

async function streamChunks(reader: SealedFileReader, sink: PlaintextSink, o: UnsealFileOptions): Promise<string> {
  const pool = o.pool ?? null;
  const ctx = reader.context;
  const ctxId = pool ? pool.addContext(ctx.key, ctx.noncePrefix, ctx.headerHash, ctx.chunkCount) : 0;
  const hash = createHash('sha256');
  try {
    await runOrdered({
      count: reader.chunkCount,
      bufferSize: reader.header.chunkSize + TAG_LENGTH,
      depth: pipelineDepth(pool),
      read: async (slot) => {
        slot.length = await reader.readCiphertext(slot.index, slot.buf);
      },
      transform: chunkTransform(pool, ctxId, 'open', (slot) => openChunkInPlace(ctx, slot.index, slot.buf, slot.length)),
      consume: async (slot) => {
        if (!slot.ok) throw await reader.diagnose(slot.index);
        const plain = slot.buf.subarray(0, slot.length);
        hash.update(plain);
        await sink.write(plain);
        o.onBytes?.(slot.length);
      },
    });
  } finally {
    if (pool) pool.dropContext(ctxId);
  }
  return hash.digest('hex');
}
