import { createHash } from 'node:crypto';
import { KeyError } from '../errors.js';
import {
  ALG_AES_256_GCM_HKDF_SHA256,
  COMMIT_TAG_LENGTH,
  FIXED_HEADER_LENGTH,
  FORMAT_VERSION,
  KEY_CHECK_LENGTH,
  MAGIC,
  MAX_CHUNKS,
  MAX_META_LENGTH,
  NONCE_PREFIX_LENGTH,
  SALT_LENGTH,
  TRAILER_LENGTH,
  isValidChunkSize,
} from './format.js';
import { type SealMeta, decodeMeta, encodeMeta } from './meta.js';

/** The header fields a sealer chooses. */
export interface HeaderFields {
  readonly chunkSize: number;
  readonly plaintextSize: number;
  readonly salt: Buffer;
  readonly noncePrefix: Buffer;
  readonly meta: SealMeta;
}

/** A parsed container prelude: header fields, the exact header bytes and their hash, key check and tag. */
export interface SealedHeader extends HeaderFields {
  /** Header bytes [0, headerLength): what the commitment tag and every chunk's AAD cover. */
  readonly bytes: Buffer;
  readonly hash: Buffer;
  readonly keyCheck: Buffer;
  readonly commitTag: Buffer;
  /** Offset of chunk 0. */
  readonly preludeLength: number;
}

/** Encodes the header (without key check and tag). */
export function encodeHeader(f: HeaderFields): Buffer {
  if (!isValidChunkSize(f.chunkSize)) throw new KeyError('ERR_SEAL_OPTIONS', `chunk size ${f.chunkSize} is not a power of two in 64 KiB..16 MiB`);
  checkSize(f.plaintextSize, f.chunkSize, 'ERR_SEAL_OPTIONS');
  const meta = encodeMeta(f.meta);
  if (meta.length > MAX_META_LENGTH) throw new KeyError('ERR_SEAL_OPTIONS', 'container metadata exceeds 64 KiB (name or kid too long)');
  const h = Buffer.alloc(FIXED_HEADER_LENGTH + meta.length);
  MAGIC.copy(h, 0);
  h.writeUInt8(FORMAT_VERSION, 8);
  h.writeUInt8(ALG_AES_256_GCM_HKDF_SHA256, 9);
  h.writeUInt32BE(f.chunkSize, 10);
  h.writeBigUInt64BE(BigInt(f.plaintextSize), 14);
  f.salt.copy(h, 22, 0, SALT_LENGTH);
  f.noncePrefix.copy(h, 54, 0, NONCE_PREFIX_LENGTH);
  h.writeUInt32BE(meta.length, 61);
  meta.copy(h, FIXED_HEADER_LENGTH);
  return h;
}

/** Total prelude length once the first 65 bytes are known (so a reader knows how much more to read). */
export function preludeLengthFrom(fixed: Uint8Array): number {
  const b = Buffer.from(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  checkFixed(b);
  return FIXED_HEADER_LENGTH + b.readUInt32BE(61) + TRAILER_LENGTH;
}

/** Parses a prelude (header, key check, commitment tag). Throws only KeyError. Authenticates nothing. */
export function parsePrelude(input: Uint8Array): SealedHeader {
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const preludeLength = preludeLengthFrom(b);
  if (b.length < preludeLength) throw new KeyError('ERR_SEAL_HEADER_MALFORMED', `container prelude is ${b.length} bytes, its header says ${preludeLength}`);
  const headerLength = preludeLength - TRAILER_LENGTH;
  const chunkSize = b.readUInt32BE(10);
  const plaintextSize = checkSize(b.readBigUInt64BE(14), chunkSize, 'ERR_SEAL_HEADER_MALFORMED');
  const bytes = Buffer.from(b.subarray(0, headerLength));
  return {
    chunkSize,
    plaintextSize,
    salt: Buffer.from(b.subarray(22, 22 + SALT_LENGTH)),
    noncePrefix: Buffer.from(b.subarray(54, 54 + NONCE_PREFIX_LENGTH)),
    meta: decodeMeta(b.subarray(FIXED_HEADER_LENGTH, headerLength)),
    bytes,
    hash: createHash('sha256').update(bytes).digest(),
    keyCheck: Buffer.from(b.subarray(headerLength, headerLength + KEY_CHECK_LENGTH)),
    commitTag: Buffer.from(b.subarray(headerLength + KEY_CHECK_LENGTH, headerLength + KEY_CHECK_LENGTH + COMMIT_TAG_LENGTH)),
    preludeLength,
  };
}

function checkFixed(b: Buffer): void {
  if (b.length < FIXED_HEADER_LENGTH) throw new KeyError('ERR_SEAL_HEADER_MALFORMED', `container is ${b.length} bytes, shorter than the ${FIXED_HEADER_LENGTH}-byte fixed header`);
  if (!b.subarray(0, 8).equals(MAGIC)) throw new KeyError('ERR_SEAL_MAGIC', 'not a zt4ai sealed-model container (bad magic)');
  if (b[8] !== FORMAT_VERSION) throw new KeyError('ERR_SEAL_VERSION', `container format version ${b[8]} is not supported (expected ${FORMAT_VERSION})`);
  if (b[9] !== ALG_AES_256_GCM_HKDF_SHA256) throw new KeyError('ERR_SEAL_ALG', `container algorithm ${b[9]} is not supported`);
  if (!isValidChunkSize(b.readUInt32BE(10))) throw new KeyError('ERR_SEAL_HEADER_MALFORMED', `chunk size ${b.readUInt32BE(10)} is not a power of two in 64 KiB..16 MiB`);
  const metaLength = b.readUInt32BE(61);
  if (metaLength === 0 || metaLength > MAX_META_LENGTH) throw new KeyError('ERR_SEAL_HEADER_MALFORMED', `metadata length ${metaLength} is outside 1..${MAX_META_LENGTH}`);
}

/** Sizes beyond 2^53 - 1 or 2^32 chunks are refused (JS numbers, and the 32-bit nonce counter). */
function checkSize(size: bigint | number, chunkSize: number, code: 'ERR_SEAL_OPTIONS' | 'ERR_SEAL_HEADER_MALFORMED'): number {
  const n = typeof size === 'bigint' ? size : BigInt(size);
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER) || n > BigInt(chunkSize) * BigInt(MAX_CHUNKS)) {
    throw new KeyError(code, `plaintext size ${n} is beyond what the format allows for chunk size ${chunkSize}`);
  }
  return Number(n);
}
