import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { KeystoreError, causeName, wipe } from './errors.js';
import { LocalKek } from './kek.js';

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$|^[A-Za-z0-9_-]{43}$/;

/**
 * 32 raw bytes, or base64/base64url text of 32 bytes (surrounding whitespace ignored). Content that is all
 * printable text is read as text, so a 32-character password is refused rather than taken as a raw key.
 */
export function parseKekBytes(raw: Uint8Array, where: string): Buffer {
  const isText = raw.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09);
  if (!isText && raw.length === 32) return Buffer.from(raw);
  const text = Buffer.from(raw).toString('latin1').trim();
  if (isText && BASE64_32.test(text)) {
    const key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (key.length === 32) return key;
    wipe(key);
  }
  throw new KeystoreError('ERR_KEK_FORMAT', `${where} does not hold a 32-byte key (raw, or base64 of 32 bytes)`);
}

/**
 * A KEK from a file of 32 raw bytes or their base64. The file must be private to its owner: a KEK that group or
 * others can read is refused (ERR_KEK_FILE_MODE) rather than used, since everything it protects would leak.
 */
export async function kekFromFile(path: string): Promise<LocalKek> {
  let mode: number;
  let raw: Buffer;
  try {
    mode = (await stat(path)).mode;
  } catch (cause) {
    throw new KeystoreError('ERR_KEK_SOURCE', `cannot read the key-encryption key file "${path}": ${causeName(cause)}`, { cause });
  }
  if ((mode & 0o077) !== 0) {
    throw new KeystoreError('ERR_KEK_FILE_MODE', `the key-encryption key file "${path}" has mode ${(mode & 0o777).toString(8)}: group or others can access it; chmod 600 it`);
  }
  try {
    raw = await readFile(path);
  } catch (cause) {
    throw new KeystoreError('ERR_KEK_SOURCE', `cannot read the key-encryption key file "${path}": ${causeName(cause)}`, { cause });
  }
  try {
    const key = parseKekBytes(raw, `the key-encryption key file "${path}"`);
    try {
      return new LocalKek(key);
    } finally {
      wipe(key);
    }
  } finally {
    wipe(raw);
  }
}

/** A KEK from an environment variable holding base64 of 32 bytes (default ZT4AI_KEK). */
export function kekFromEnv(variable = 'ZT4AI_KEK', env: NodeJS.ProcessEnv = process.env): LocalKek {
  const value = env[variable];
  if (value === undefined || value === '') throw new KeystoreError('ERR_KEK_SOURCE', `the environment variable ${variable} holding the key-encryption key is not set`);
  const key = parseKekBytes(Buffer.from(value, 'latin1'), `the environment variable ${variable}`);
  try {
    return new LocalKek(key);
  } finally {
    wipe(key);
  }
}

/**
 * Writes a fresh KEK (base64 of 32 random bytes) to a new 0600 file; refuses to overwrite an existing one,
 * since replacing a KEK makes every stored key unreadable.
 */
export async function generateKekFile(path: string): Promise<void> {
  const key = randomBytes(32);
  const text = Buffer.from(`${key.toString('base64')}\n`, 'latin1');
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (cause) {
    throw new KeystoreError('ERR_KEK_SOURCE', `cannot create the key-encryption key file "${path}": ${causeName(cause)}`, { cause });
  } finally {
    wipe(key, text);
  }
}
