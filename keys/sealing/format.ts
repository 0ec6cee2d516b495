/**
 * Constants and layout arithmetic of the sealed-model container, format version 1
 * (docs/sealed-model-format.md describes it byte by byte).
 */

/** "ZT4AISM" then NUL: zt4ai sealed model. */
export const MAGIC = Buffer.from('ZT4AISM\0', 'latin1');
export const FORMAT_VERSION = 1;
/** AES-256-GCM chunks, HKDF-SHA256 key derivation, HMAC-SHA256 key commitment. */
export const ALG_AES_256_GCM_HKDF_SHA256 = 1;

export const SALT_LENGTH = 32;
export const NONCE_PREFIX_LENGTH = 7;
export const TAG_LENGTH = 16;
export const KEY_CHECK_LENGTH = 32;
export const COMMIT_TAG_LENGTH = 32;
export const DATA_KEY_LENGTH = 32;
/** magic 8, version 1, alg 1, chunk_size 4, plaintext_size 8, salt 32, nonce_prefix 7, meta_len 4. */
export const FIXED_HEADER_LENGTH = 65;
/** Bytes after the header and before chunk 0: key check and commitment tag. */
export const TRAILER_LENGTH = KEY_CHECK_LENGTH + COMMIT_TAG_LENGTH;
export const MAX_META_LENGTH = 64 * 1024;

export const MIN_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** Measured on the bench (docs/sealed-model-format.md): 1 MiB is as fast as 4 MiB and finer for random access. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** The counter in the nonce is 32 bits. */
export const MAX_CHUNKS = 2 ** 32;

/** Suffix of a container file: `<relative path of the model file>.sealed`. */
export const SEALED_SUFFIX = '.sealed';
/** Where a sealed model keeps its OMS statement: the signed bundle, or the unsigned statement. */
export const SIGNATURE_FILE = 'model.sig';
export const UNSIGNED_MANIFEST_FILE = 'model.manifest.json';

export function isValidChunkSize(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_CHUNK_SIZE && n <= MAX_CHUNK_SIZE && (n & (n - 1)) === 0;
}

/** n = max(1, ceil(size / chunk)): an empty file is one empty final chunk. */
export function chunkCount(plaintextSize: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(plaintextSize / chunkSize));
}

/** Plaintext bytes in chunk i (the last one may be short, or empty for an empty file). */
export function chunkPlainLength(plaintextSize: number, chunkSize: number, index: number): number {
  const n = chunkCount(plaintextSize, chunkSize);
  return index < n - 1 ? chunkSize : plaintextSize - (n - 1) * chunkSize;
}

/** File offset of chunk i: header, key check and commitment tag, then i full chunks with their tags. */
export function chunkOffset(headerLength: number, chunkSize: number, index: number): number {
  return headerLength + TRAILER_LENGTH + index * (chunkSize + TAG_LENGTH);
}

/** The exact container length; anything else is truncation or appended data. */
export function containerLength(headerLength: number, plaintextSize: number, chunkSize: number): number {
  return headerLength + TRAILER_LENGTH + plaintextSize + TAG_LENGTH * chunkCount(plaintextSize, chunkSize);
}
