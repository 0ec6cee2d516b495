import { KeystoreError } from '../keystore/errors.js';

/** Key Vault's key-export encryption algorithms (`enc` of a release request and of `key_hsm`). */
export const RELEASE_ENCS = ['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384'] as const;
export type ReleaseEnc = (typeof RELEASE_ENCS)[number];

/** What Key Vault uses when a release request has no `enc` (observed on a real Managed HSM). */
export const DEFAULT_RELEASE_ENC: ReleaseEnc = 'CKM_RSA_AES_KEY_WRAP';

/** The RSA-OAEP hash (and MGF1 hash) of each enc: SHA-1, SHA-256, SHA-384. */
const OAEP_HASH: Record<ReleaseEnc, 'sha1' | 'sha256' | 'sha384'> = {
  CKM_RSA_AES_KEY_WRAP: 'sha1',
  RSA_AES_KEY_WRAP_256: 'sha256',
  RSA_AES_KEY_WRAP_384: 'sha384',
};

export function isReleaseEnc(value: unknown): value is ReleaseEnc {
  return typeof value === 'string' && (RELEASE_ENCS as readonly string[]).includes(value);
}

/** Checks an enc from a request or a response (undefined gives Key Vault's default). */
export function parseReleaseEnc(value: unknown): ReleaseEnc {
  if (value === undefined || value === null) return DEFAULT_RELEASE_ENC;
  if (!isReleaseEnc(value)) throw new KeystoreError('ERR_WRAP_ENC', `enc "${String(value).slice(0, 40)}" is not one of ${RELEASE_ENCS.join(', ')}`);
  return value;
}

export function oaepHashOf(enc: ReleaseEnc): 'sha1' | 'sha256' | 'sha384' {
  return OAEP_HASH[enc];
}
