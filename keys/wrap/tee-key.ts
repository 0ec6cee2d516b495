import { type JsonWebKey, type KeyObject, createPublicKey } from 'node:crypto';
import { KeystoreError } from '../keystore/errors.js';

/** The TEE's wrapping key as it appears in `x-ms-runtime.keys` of an attestation token. */
export interface TeeJwk {
  readonly kty: string;
  readonly kid: string;
  readonly n: string;
  readonly e: string;
  readonly key_ops?: readonly string[];
  readonly use?: string;
}

const MIN_BITS = 2048;
const MAX_BITS = 8192;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Checks that a JWK is an acceptable key to wrap a released key to: RSA, public only, 2048-8192 bits, a kid
 * (the wrapped key names it, binding the release to that key), allowed to encrypt. Returns the public key.
 */
export function checkTeeKey(jwk: unknown): { key: KeyObject; kid: string; bits: number } {
  if (jwk === null || typeof jwk !== 'object') throw new KeystoreError('ERR_WRAP_TEE_KEY', 'the TEE key is not a JWK object');
  const j = jwk as Record<string, unknown>;
  if (j.kty !== 'RSA') throw new KeystoreError('ERR_WRAP_TEE_KEY', `the TEE key has kty "${String(j.kty).slice(0, 20)}", not RSA`);
  if (typeof j.kid !== 'string' || j.kid.length === 0 || j.kid.length > 256) throw new KeystoreError('ERR_WRAP_TEE_KEY', 'the TEE key has no kid');
  if (typeof j.n !== 'string' || typeof j.e !== 'string') throw new KeystoreError('ERR_WRAP_TEE_KEY', 'the TEE key lacks n or e');
  if (PRIVATE_MEMBERS.some((m) => m in j)) throw new KeystoreError('ERR_WRAP_TEE_KEY', 'the TEE key JWK holds private members; only the public key belongs in a release request');
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes('encrypt'))) throw new KeystoreError('ERR_WRAP_TEE_KEY_OPS', 'the TEE key key_ops does not include encrypt');
  if (j.use !== undefined && j.use !== 'enc') throw new KeystoreError('ERR_WRAP_TEE_KEY_OPS', `the TEE key is for use "${String(j.use).slice(0, 20)}", not enc`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'RSA', n: j.n, e: j.e } as JsonWebKey, format: 'jwk' });
  } catch {
    throw new KeystoreError('ERR_WRAP_TEE_KEY', 'the TEE key n/e do not form an RSA public key');
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_BITS || bits > MAX_BITS) throw new KeystoreError('ERR_WRAP_TEE_KEY_SIZE', `the TEE key has ${bits} bits; ${MIN_BITS}-${MAX_BITS} are accepted`);
  return { key, kid: j.kid, bits };
}
