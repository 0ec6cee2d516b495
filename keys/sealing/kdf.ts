import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { KeyError } from '../errors.js';
import { DATA_KEY_LENGTH } from './format.js';

const LABEL = 'zt4ai-sealed-model/v1';

/** Keys of one container, derived from the model's data key; wipe both after use. */
export interface FileKeys {
  /** AES-256-GCM key of the chunks. */
  readonly enc: Buffer;
  /** HMAC-SHA256 key of the commitment tag. */
  readonly commit: Buffer;
}

export function checkDataKey(dataKey: Uint8Array): void {
  if (dataKey.length !== DATA_KEY_LENGTH) throw new KeyError('ERR_KEY_DATA_KEY', `a data key must be ${DATA_KEY_LENGTH} bytes, got ${dataKey.length}`);
}

/**
 * Key check value: HKDF(data key, no salt, "<label> key-check"). It depends on the data key only, so a
 * reader tells a wrong key (ERR_SEAL_WRONG_KEY) from an edited header (ERR_SEAL_HEADER_TAMPERED).
 */
export function keyCheckValue(dataKey: Uint8Array): Buffer {
  checkDataKey(dataKey);
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `${LABEL} key-check`, 32));
}

/** Per-file keys: HKDF(data key, salt, "<label> enc|commit" 0x00 file name). Fresh salt, fresh keys. */
export function deriveFileKeys(dataKey: Uint8Array, salt: Uint8Array, name: string): FileKeys {
  checkDataKey(dataKey);
  const info = (purpose: string) => Buffer.concat([Buffer.from(`${LABEL} ${purpose}\0`, 'utf8'), Buffer.from(name, 'utf8')]);
  return {
    enc: Buffer.from(hkdfSync('sha256', dataKey, salt, info('enc'), 32)),
    commit: Buffer.from(hkdfSync('sha256', dataKey, salt, info('commit'), 32)),
  };
}

/** Commitment tag: HMAC-SHA256(commit key, header bytes). */
export function commitTag(commitKey: Uint8Array, header: Uint8Array): Buffer {
  return createHmac('sha256', commitKey).update(header).digest();
}

/** Constant-time equality for tags and check values. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
