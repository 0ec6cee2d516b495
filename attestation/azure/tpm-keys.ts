import { type KeyObject, createHash, createPublicKey } from 'node:crypto';
import { AttestationError } from '../errors.js';

/** The vTPM keys are RSA-2048 on Azure; smaller keys are refused, absurdly large ones are not a vTPM's. */
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;

const B64URL = /^[A-Za-z0-9_-]+$/;

/** The public members of an RSA JWK (RFC 7517/7518), as the runtime claims carry them. */
export interface RsaPublicJwk {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
}

/**
 * Turns an RSA public JWK from the runtime claims into a KeyObject. Only `kty`, `n` and `e` are given to
 * node: private members or other key types in a claim are refused, not silently used.
 * Throws ERR_HCL_KEY_INVALID naming `what` (e.g. "HCLAkPub").
 */
export function rsaPublicKeyFromJwk(jwk: unknown, what: string): KeyObject {
  const fail = (why: string): never => {
    throw new AttestationError('ERR_HCL_KEY_INVALID', `${what}: ${why}`);
  };
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return fail('is not a JSON object');
  const { kty, n, e, d } = jwk as Record<string, unknown>;
  if (kty !== 'RSA') return fail(`kty is ${JSON.stringify(kty)}; the vTPM keys are RSA`);
  if (d !== undefined) return fail('carries a private exponent; a runtime claim must hold public keys only');
  if (typeof n !== 'string' || !B64URL.test(n) || typeof e !== 'string' || !B64URL.test(e)) return fail('n and e must be base64url strings');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
  } catch (cause) {
    throw new AttestationError('ERR_HCL_KEY_INVALID', `${what}: node cannot import the RSA key`, { cause });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return fail(`RSA modulus is ${bits} bits; expected ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`);
  return key;
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key: a stable short name for an AK. */
export function rsaJwkThumbprint(key: KeyObject): string {
  const { e, n } = key.export({ format: 'jwk' });
  // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
}
