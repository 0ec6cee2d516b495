import { type JsonWebKey, KeyObject, constants, createDecipheriv, createCipheriv, createPrivateKey, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { KeystoreError, wipe } from '../keystore/errors.js';
import { type ReleaseEnc, isReleaseEnc, oaepHashOf, parseReleaseEnc } from './enc.js';
import { type TeeJwk, checkTeeKey } from './tee-key.js';

/** `key_hsm` decoded: Key Vault's `{schema_version, header: {alg: "dir", enc, kid}, ciphertext}`. */
export interface KeyHsm {
  readonly schemaVersion: '1.0';
  readonly header: { readonly alg: 'dir'; readonly enc: ReleaseEnc; readonly kid: string };
  /** RSA-OAEP(transient AES-256 key) || AES-KWP(material). */
  readonly ciphertext: Buffer;
}

/** RFC 5649's alternative initial value (the 32-bit constant before the message length). */
const KWP_IV = Buffer.from('A65959A6', 'hex');
const MAX_MATERIAL = 16 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Wraps key material to a TEE's RSA key exactly as Key Vault does for a release: a transient AES-256 key is
 * RSA-OAEP-encrypted to the TEE key (SHA-1/256/384 per `enc`), the material is AES key-wrapped with padding
 * (RFC 5649) under it, and the whole is Key Vault's `key_hsm` (base64url JSON). The transient key is wiped.
 */
export function wrapForRelease(material: Uint8Array, teeJwk: TeeJwk, enc: ReleaseEnc = 'CKM_RSA_AES_KEY_WRAP'): string {
  const checkedEnc = parseReleaseEnc(enc);
  if (material.length === 0 || material.length > MAX_MATERIAL) throw new KeystoreError('ERR_WRAP_MATERIAL', `key material of ${material.length} bytes cannot be wrapped`);
  const { key, kid } = checkTeeKey(teeJwk);
  const transient = randomBytes(32);
  try {
    const wrappedKey = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHashOf(checkedEnc) }, transient);
    const kwp = createCipheriv('id-aes256-wrap-pad', transient, KWP_IV);
    const wrappedMaterial = Buffer.concat([kwp.update(material), kwp.final()]);
    const doc = { ciphertext: Buffer.concat([wrappedKey, wrappedMaterial]).toString('base64url'), header: { alg: 'dir', enc: checkedEnc, kid }, schema_version: '1.0' };
    return Buffer.from(JSON.stringify(doc), 'utf8').toString('base64url');
  } finally {
    wipe(transient);
  }
}

/** Decodes and checks `key_hsm` without decrypting it. */
export function parseKeyHsm(keyHsm: string): KeyHsm {
  const bad = (why: string): KeystoreError => new KeystoreError('ERR_WRAP_KEY_HSM', `key_hsm ${why}`);
  if (typeof keyHsm !== 'string' || !BASE64URL.test(keyHsm)) throw bad('is not base64url');
  let doc: { schema_version?: unknown; header?: { alg?: unknown; enc?: unknown; kid?: unknown } | null; ciphertext?: unknown };
  try {
    doc = JSON.parse(Buffer.from(keyHsm, 'base64url').toString('utf8')) as typeof doc;
  } catch {
    throw bad('is not base64url of JSON');
  }
  if (doc === null || typeof doc !== 'object') throw bad('is not a JSON object');
  if (doc.schema_version !== '1.0') throw bad(`has schema_version ${JSON.stringify(doc.schema_version)?.slice(0, 20)}, not "1.0"`);
  const h = doc.header;
  if (h === null || typeof h !== 'object') throw bad('has no header');
  if (h.alg !== 'dir') throw bad('header.alg is not "dir"');
  if (!isReleaseEnc(h.enc)) throw bad(`header.enc ${JSON.stringify(h.enc)?.slice(0, 40)} is not a known enc`);
  if (typeof h.kid !== 'string') throw bad('header.kid is not a string');
  if (typeof doc.ciphertext !== 'string' || !BASE64URL.test(doc.ciphertext)) throw bad('ciphertext is not base64url');
  return { schemaVersion: '1.0', header: { alg: 'dir', enc: h.enc, kid: h.kid }, ciphertext: Buffer.from(doc.ciphertext, 'base64url') };
}

/** A TEE private key in any form the runner may hold it. */
export type TeePrivateKey = KeyObject | string | JsonWebKey;

export function toPrivateKey(key: TeePrivateKey): KeyObject {
  try {
    if (typeof key === 'string') return createPrivateKey(key);
    if (key instanceof KeyObject) return key;
    return createPrivateKey({ key, format: 'jwk' });
  } catch {
    throw new KeystoreError('ERR_WRAP_TEE_KEY', 'the TEE private key cannot be read (PEM, JWK or KeyObject expected)');
  }
}

/**
 * Opens a `key_hsm` with the TEE's RSA private key: RSA-OAEP (hash per header.enc) gives the transient AES key,
 * RFC 5649 unwrapping gives the material. Returns the material (wipe it after use) and the header.
 */
export function unwrapKeyHsm(keyHsm: string | KeyHsm, teePrivateKey: TeePrivateKey): { material: Buffer; header: KeyHsm['header'] } {
  const parsed = typeof keyHsm === 'string' ? parseKeyHsm(keyHsm) : keyHsm;
  const key = toPrivateKey(teePrivateKey);
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') throw new KeystoreError('ERR_WRAP_TEE_KEY', 'the TEE private key is not an RSA private key');
  const [wrappedKey, wrappedMaterial] = split(parsed, (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  let transient: Buffer;
  try {
    transient = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHashOf(parsed.header.enc) }, wrappedKey);
  } catch {
    throw new KeystoreError('ERR_WRAP_DECRYPT', `RSA-OAEP (${parsed.header.enc}) decryption failed: the key was wrapped to another TEE key`);
  }
  try {
    return { material: kwpUnwrap(transient, wrappedMaterial), header: parsed.header };
  } finally {
    wipe(transient);
  }
}

/**
 * A TEE key whose private half never leaves its TPM (the Azure vTPM's ephemeral key): it decrypts the RSA-OAEP
 * part of a `key_hsm` itself, and throws when it cannot.
 */
export interface TeeDecryptor {
  readonly modulusBytes: number;
  decrypt(wrappedKey: Buffer, enc: ReleaseEnc): Promise<Buffer>;
}

/** unwrapKeyHsm with the RSA-OAEP step done by `decryptor` (a TPM); the AES key unwrap stays here. */
export async function unwrapKeyHsmWith(keyHsm: string | KeyHsm, decryptor: TeeDecryptor): Promise<{ material: Buffer; header: KeyHsm['header'] }> {
  const parsed = typeof keyHsm === 'string' ? parseKeyHsm(keyHsm) : keyHsm;
  const [wrappedKey, wrappedMaterial] = split(parsed, decryptor.modulusBytes);
  let transient: Buffer;
  try {
    transient = await decryptor.decrypt(wrappedKey, parsed.header.enc);
  } catch (cause) {
    throw new KeystoreError('ERR_WRAP_DECRYPT', `RSA-OAEP (${parsed.header.enc}) decryption by the TEE key failed: the key was wrapped to another TEE key`, { cause });
  }
  try {
    return { material: kwpUnwrap(transient, wrappedMaterial), header: parsed.header };
  } finally {
    wipe(transient);
  }
}

/** The RSA-OAEP part (one modulus long) and the RFC 5649 part of the ciphertext. */
function split(parsed: KeyHsm, modBytes: number): [Buffer, Buffer] {
  const ct = parsed.ciphertext;
  const wrappedLength = ct.length - modBytes;
  if (modBytes <= 0 || wrappedLength < 16 || wrappedLength % 8 !== 0) throw new KeystoreError('ERR_WRAP_KEY_HSM', `key_hsm ciphertext of ${ct.length} bytes does not fit a ${modBytes * 8}-bit TEE key`);
  return [ct.subarray(0, modBytes), ct.subarray(modBytes)];
}

/** RFC 5649 unwrap under a 16/24/32-byte AES key; ERR_WRAP_INTEGRITY when the integrity check fails. */
function kwpUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const cipher = kek.length === 32 ? 'id-aes256-wrap-pad' : kek.length === 24 ? 'id-aes192-wrap-pad' : kek.length === 16 ? 'id-aes128-wrap-pad' : null;
  if (cipher === null) throw new KeystoreError('ERR_WRAP_DECRYPT', `the transient key is ${kek.length} bytes, not an AES key`);
  // OpenSSL unwraps in update() and reports a failed integrity check there, or in final().
  let first: Buffer | undefined;
  try {
    const decipher = createDecipheriv(cipher, kek, KWP_IV);
    first = decipher.update(wrapped);
    return Buffer.concat([first, decipher.final()]);
  } catch {
    throw new KeystoreError('ERR_WRAP_INTEGRITY', 'the AES key wrap integrity check failed: the ciphertext was changed');
  } finally {
    wipe(first);
  }
}
