import { type KeyObject, createCipheriv, createDecipheriv } from 'node:crypto';
import { NONCE_PREFIX_LENGTH, TAG_LENGTH } from './format.js';

/** What every chunk of one container shares. */
export interface ChunkContext {
  readonly key: KeyObject;
  readonly noncePrefix: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly chunkCount: number;
}

/**
 * node:crypto allocates a fresh output buffer per update(); feeding a chunk in slices of this size keeps
 * those allocations small and reused by the allocator (large ones cost page faults) and lets the chunk
 * be transformed in place.
 */
const SLICE = 64 * 1024;

/** nonce_i = prefix (7) || i (u32 big-endian) || 0x01 for the last chunk, else 0x00. */
export function chunkNonce(prefix: Uint8Array, index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.set(prefix.subarray(0, NONCE_PREFIX_LENGTH), 0);
  n.writeUInt32BE(index, NONCE_PREFIX_LENGTH);
  n[11] = last ? 1 : 0;
  return n;
}

/** AAD_i = SHA-256(header) (32) || i (u32 big-endian). */
export function chunkAad(headerHash: Uint8Array, index: number): Buffer {
  const a = Buffer.alloc(headerHash.length + 4);
  a.set(headerHash, 0);
  a.writeUInt32BE(index, headerHash.length);
  return a;
}

/** Encrypts buf[0, length) in place and writes the 16-byte tag at buf[length, length + 16). */
export function sealChunkInPlace(ctx: ChunkContext, index: number, buf: Buffer, length: number): void {
  const c = createCipheriv('aes-256-gcm', ctx.key, chunkNonce(ctx.noncePrefix, index, index === ctx.chunkCount - 1));
  c.setAAD(chunkAad(ctx.headerHash, index));
  const w = transformInPlace(c, buf, length);
  c.final().copy(buf, w);
  c.getAuthTag().copy(buf, length);
}

/**
 * Decrypts chunk `index` held in buf[0, length + 16) in place as if it sat at `asIndex` (diagnosis tries
 * other positions). Returns false when the tag does not verify; the buffer is then zeroed so that no
 * unauthenticated plaintext survives.
 */
export function openChunkInPlace(ctx: ChunkContext, asIndex: number, buf: Buffer, length: number): boolean {
  const d = createDecipheriv('aes-256-gcm', ctx.key, chunkNonce(ctx.noncePrefix, asIndex, asIndex === ctx.chunkCount - 1));
  d.setAAD(chunkAad(ctx.headerHash, asIndex));
  d.setAuthTag(buf.subarray(length, length + TAG_LENGTH));
  const w = transformInPlace(d, buf, length);
  try {
    d.final().copy(buf, w);
    return true;
  } catch {
    buf.fill(0, 0, length);
    return false;
  }
}

/** GCM emits as many bytes as it takes, so the write offset never passes the read offset. */
function transformInPlace(c: { update(b: Buffer): Buffer }, buf: Buffer, length: number): number {
  let w = 0;
  for (let r = 0; r < length; r += SLICE) w += c.update(buf.subarray(r, Math.min(length, r + SLICE))).copy(buf, w);
  return w;
}
