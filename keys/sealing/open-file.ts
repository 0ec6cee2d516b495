import { type KeyObject, createSecretKey } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { KeyError, wipe } from '../errors.js';
import { type ChunkContext, openChunkInPlace } from './chunk-cipher.js';
import type { DataKeyUnwrapper } from './data-keys.js';
import { FIXED_HEADER_LENGTH, TAG_LENGTH, chunkCount, chunkOffset, chunkPlainLength, containerLength } from './format.js';
import { type SealedHeader, parsePrelude, preludeLengthFrom } from './header.js';
import { commitTag, deriveFileKeys, keyCheckValue, sameBytes } from './kdf.js';

/** What the container must belong to; checked after its header is authenticated. */
export interface ExpectedBinding {
  readonly name?: string;
  readonly omsRootDigest?: string;
  readonly omsBundleSha256?: string;
}

/** Candidate positions tried when a chunk fails, to tell reordering and duplication from corruption. */
const DIAGNOSIS_WINDOW = 32;

/**
 * Authenticates a header with a data key and returns the chunk key. Key check and commitment tag are
 * both computed before deciding: a wrong key fails both; an edited header (or key check) fails one.
 */
export function authenticateHeader(h: SealedHeader, dataKey: Uint8Array, expect: ExpectedBinding = {}): KeyObject {
  const keyOk = sameBytes(keyCheckValue(dataKey), h.keyCheck);
  const keys = deriveFileKeys(dataKey, h.salt, h.meta.name);
  try {
    const tagOk = sameBytes(commitTag(keys.commit, h.bytes), h.commitTag);
    if (!keyOk && !tagOk) throw new KeyError('ERR_SEAL_WRONG_KEY', `the data key for ${h.meta.kid} does not open this container`, { path: h.meta.name });
    if (!keyOk || !tagOk) throw new KeyError('ERR_SEAL_HEADER_TAMPERED', 'the container header was modified after sealing', { path: h.meta.name });
    checkBinding(h, expect);
    return createSecretKey(keys.enc);
  } finally {
    wipe(keys.enc, keys.commit);
  }
}

function checkBinding(h: SealedHeader, expect: ExpectedBinding): void {
  const m = h.meta;
  if (expect.name !== undefined && m.name !== expect.name) throw new KeyError('ERR_SEAL_NAME_MISMATCH', `container holds ${m.name}, expected ${expect.name}`, { path: expect.name });
  if (expect.omsRootDigest !== undefined && m.omsRootDigest !== expect.omsRootDigest) {
    throw new KeyError('ERR_SEAL_ROOT_MISMATCH', `container ${m.name} belongs to model ${m.omsRootDigest}, expected ${expect.omsRootDigest}`, { path: m.name });
  }
  if (expect.omsBundleSha256 !== undefined && m.omsBundleSha256 !== expect.omsBundleSha256) {
    throw new KeyError('ERR_SEAL_BUNDLE_MISMATCH', `container ${m.name} was sealed with another signature bundle`, { path: m.name });
  }
}

/**
 * An open, authenticated container: random access to any chunk (each verified on its own), and the
 * pieces the streaming unsealer needs. Close it to release the file.
 */
export class SealedFileReader {
  readonly chunkCount: number;

  private constructor(
    readonly path: string,
    readonly fh: FileHandle,
    readonly header: SealedHeader,
    readonly context: ChunkContext,
  ) {
    this.chunkCount = context.chunkCount;
  }

  /** Reads and authenticates the prelude, checks the binding and the exact container length. */
  static async open(path: string, key: Uint8Array | DataKeyUnwrapper, expect: ExpectedBinding = {}): Promise<SealedFileReader> {
    const fh = await open(path, 'r').catch((cause: unknown) => {
      throw new KeyError('ERR_SEAL_IO', `cannot open container ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path });
    });
    try {
      const header = await readPrelude(fh);
      const dataKey = 'unwrap' in key ? await key.unwrap({ kid: header.meta.kid, wrap: header.meta.wrap, ...(header.meta.wrappedKey ? { wrappedKey: header.meta.wrappedKey } : {}) }) : key;
      let enc: KeyObject;
      try {
        enc = authenticateHeader(header, dataKey, expect);
      } finally {
        if (dataKey !== key) wipe(dataKey);
      }
      await checkLength(fh, header);
      const n = chunkCount(header.plaintextSize, header.chunkSize);
      return new SealedFileReader(path, fh, header, { key: enc, noncePrefix: header.noncePrefix, headerHash: header.hash, chunkCount: n });
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Plaintext length of chunk i. */
  plainLength(index: number): number {
    return chunkPlainLength(this.header.plaintextSize, this.header.chunkSize, index);
  }

  /** Reads chunk i (ciphertext and tag) into buf; returns the plaintext length. */
  async readCiphertext(index: number, buf: Buffer): Promise<number> {
    const length = this.plainLength(index);
    const offset = chunkOffset(this.header.bytes.length, this.header.chunkSize, index);
    const { bytesRead } = await this.fh.read(buf, 0, length + TAG_LENGTH, offset);
    if (bytesRead !== length + TAG_LENGTH) throw new KeyError('ERR_SEAL_TRUNCATED', `container ${this.header.meta.name} ends inside chunk ${index}`, { path: this.header.meta.name });
    return length;
  }

  /** Random access: decrypts and verifies chunk i alone. */
  async readChunk(index: number): Promise<Buffer> {
    if (!Number.isInteger(index) || index < 0 || index >= this.chunkCount) {
      throw new KeyError('ERR_SEAL_CHUNK_INDEX', `chunk ${index} is outside 0..${this.chunkCount - 1}`, { path: this.header.meta.name });
    }
    const buf = Buffer.alloc(this.plainLength(index) + TAG_LENGTH);
    const length = await this.readCiphertext(index, buf);
    if (!openChunkInPlace(this.context, index, buf, length)) throw await this.diagnose(index);
    return buf.subarray(0, length);
  }

  /**
   * Why chunk i failed: if its bytes authenticate as another chunk j, it was moved there (reordered) or
   * copied there (duplicated, when position j still holds chunk j); else it is corrupt. Bounded work.
   */
  async diagnose(index: number): Promise<KeyError> {
    const name = this.header.meta.name;
    const length = this.plainLength(index);
    const original = Buffer.alloc(length + TAG_LENGTH);
    await this.readCiphertext(index, original);
    for (const j of candidates(index, this.chunkCount)) {
      if (this.plainLength(j) !== length) continue;
      if (!openChunkInPlace(this.context, j, Buffer.from(original), length)) continue;
      const atJ = Buffer.alloc(length + TAG_LENGTH);
      await this.readCiphertext(j, atJ);
      return openChunkInPlace(this.context, j, atJ, length)
        ? new KeyError('ERR_SEAL_CHUNK_DUPLICATED', `chunk ${index} of ${name} is a copy of chunk ${j}`, { path: name })
        : new KeyError('ERR_SEAL_CHUNK_REORDERED', `chunk ${j} of ${name} was moved to position ${index}`, { path: name });
    }
    return new KeyError('ERR_SEAL_CHUNK_CORRUPT', `chunk ${index} of ${name} does not authenticate (modified or corrupt)`, { path: name });
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Positions near i first (swaps and repeats are usually local), then the first and the last. */
function candidates(i: number, n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= DIAGNOSIS_WINDOW; d++) {
    if (i - d >= 0) out.push(i - d);
    if (i + d < n) out.push(i + d);
  }
  for (const j of [0, n - 1]) if (j !== i && !out.includes(j)) out.push(j);
  return out;
}

/** Parses a container's prelude without any key (for inspection and progress totals). */
export async function readContainerHeader(path: string): Promise<SealedHeader> {
  const fh = await open(path, 'r').catch((cause: unknown) => {
    throw new KeyError('ERR_SEAL_IO', `cannot open container ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path });
  });
  try {
    return await readPrelude(fh);
  } finally {
    await fh.close();
  }
}

async function readPrelude(fh: FileHandle): Promise<SealedHeader> {
  const fixed = Buffer.alloc(FIXED_HEADER_LENGTH);
  const { bytesRead } = await fh.read(fixed, 0, FIXED_HEADER_LENGTH, 0);
  const total = preludeLengthFrom(fixed.subarray(0, bytesRead));
  const prelude = Buffer.alloc(total);
  const r = await fh.read(prelude, 0, total, 0);
  return parsePrelude(prelude.subarray(0, r.bytesRead));
}

async function checkLength(fh: FileHandle, h: SealedHeader): Promise<void> {
  const expected = containerLength(h.bytes.length, h.plaintextSize, h.chunkSize);
  const { size } = await fh.stat();
  if (size < expected) throw new KeyError('ERR_SEAL_TRUNCATED', `container ${h.meta.name} is ${size} bytes, its header says ${expected} (truncated)`, { path: h.meta.name });
  if (size > expected) throw new KeyError('ERR_SEAL_TRAILING_DATA', `container ${h.meta.name} is ${size} bytes, its header says ${expected} (data appended)`, { path: h.meta.name });
}
