/**
 * The catalogue of failures of the keystore, its key-encryption keys and storage, TEE key wrapping, release
 * responses and the audit log (keys/keystore, keys/wrap, keys/release, keys/audit). Every failure carries a
 * stable `code` that the KRS routes, the CLI's --json output and the audit log switch on. Codes never change
 * meaning; new failures get new codes. Messages name keys and versions but never hold key material or tokens.
 */
export const KEYSTORE_ERROR_CODES = {
  // Keys and their attributes
  ERR_KEYSTORE_NAME: 'a key name is not 1-127 letters, digits and dashes, or a version is not 32 hex characters',
  ERR_KEYSTORE_NOT_FOUND: 'no such key or key version (a deleted key is not found either)',
  ERR_KEYSTORE_EXISTS: 'a key of that name exists and the caller asked for a new key only',
  ERR_KEYSTORE_DELETED: 'the key is deleted but recoverable: recover or purge it before reusing its name',
  ERR_KEYSTORE_NOT_DELETED: 'recover or purge was asked for a key that is not deleted',
  ERR_KEYSTORE_KEY_TYPE: 'the key type or size is not supported (oct 128/192/256, RSA 2048/3072/4096)',
  ERR_KEYSTORE_KEY_MATERIAL: 'an imported key is not usable: oct without base64url k, RSA without every private part, or parts that do not belong together',
  ERR_KEYSTORE_KEY_OPS: 'key_ops holds an unknown or repeated operation, or one the key type cannot do',
  ERR_KEYSTORE_EXPORTABLE_NEEDS_POLICY: 'an exportable key must have a release policy (Key Vault AKV.SKR.1004)',
  ERR_KEYSTORE_POLICY_NEEDS_EXPORTABLE: 'a non-exportable key must not have a release policy (Key Vault AKV.SKR.1005)',
  ERR_KEYSTORE_EXPORTABLE_FIXED: 'the exportable attribute of an existing key cannot be changed (Key Vault AKV.SKR.1003)',
  ERR_KEYSTORE_POLICY_IMMUTABLE: 'an immutable release policy cannot be modified (Key Vault AKV.SKR.1020)',
  ERR_KEYSTORE_POLICY_INVALID: 'the release policy is not base64url of a JSON object, has a bad contentType, or failed validation',
  ERR_KEYSTORE_DISABLED: 'the key version is disabled',
  ERR_KEYSTORE_NOT_EXPORTABLE: 'the key version is not exportable, so it is never released',
  ERR_KEYSTORE_CORRUPT: 'a stored key version fails its integrity check (material, data key or attributes changed at rest)',
  ERR_KEYSTORE_CONFLICT: 'the key changed while this operation ran; retry it',
  // Key-encryption keys
  ERR_KEK_SOURCE: 'the key-encryption key cannot be read (missing or unreadable file, unset environment variable)',
  ERR_KEK_FILE_MODE: 'the key-encryption key file is accessible to group or others (chmod 600 it)',
  ERR_KEK_FORMAT: 'the key-encryption key is not 32 bytes (raw, or base64 of 32 bytes)',
  ERR_KEK_MISMATCH: 'a data key was wrapped by another key-encryption key than the configured ones',
  ERR_KEK_UNWRAP: 'the key-encryption key cannot unwrap a data key (wrong key-encryption key or tampered data)',
  ERR_KEK_REMOTE: 'the remote key-encryption key (Azure Key Vault wrapKey/unwrapKey) failed',
  // Storage
  ERR_STORE_OPEN: 'the store cannot be opened (data directory, file permissions or database file)',
  ERR_STORE_SCHEMA: 'the store schema is newer than this build, or a migration failed',
  ERR_STORE_WRITE: 'a write transaction failed and was rolled back: nothing was changed',
  // Wrapping to the TEE key (key_hsm)
  ERR_WRAP_ENC: 'enc is not CKM_RSA_AES_KEY_WRAP, RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384',
  ERR_WRAP_TEE_KEY: 'the TEE key is not an RSA public JWK with n, e and a kid',
  ERR_WRAP_TEE_KEY_SIZE: 'the TEE key is smaller than 2048 bits or larger than 8192 bits',
  ERR_WRAP_TEE_KEY_OPS: 'the TEE key may not encrypt (key_ops without encrypt, or use other than enc)',
  ERR_WRAP_MATERIAL: 'the key material to wrap is empty or larger than 16 KiB',
  ERR_WRAP_KEY_HSM: 'key_hsm is not base64url JSON {schema_version "1.0", header {alg "dir", enc, kid}, ciphertext}',
  ERR_WRAP_DECRYPT: 'RSA-OAEP decryption of the transient key failed (another TEE key, or another enc)',
  ERR_WRAP_INTEGRITY: 'the AES key wrap integrity check failed (ciphertext changed)',
  ERR_MAA_ENVELOPE: "an AzureGuest answer is not MAA's encrypted token (base64url JSON with Jwt, EncryptedInnerKey, EncryptionParams, AuthenticationData)",
  ERR_MAA_ENVELOPE_PARAMS: 'the AzureGuest answer names a cipher other than AES-GCM with a 128/192/256-bit key and PKCS7 block padding',
  ERR_MAA_ENVELOPE_DECRYPT: 'the AzureGuest token does not decrypt: its inner key is for another TPM key, or it was altered',
  // Release responses ({value: JWS})
  ERR_RELEASE_MALFORMED: 'the release response is not {value: compact JWS} with a JSON header and payload',
  ERR_RELEASE_ALG: 'the JWS alg is not RS256',
  ERR_RELEASE_X5C: 'x5c is missing, too long, or not base64 DER certificates',
  ERR_RELEASE_KID: 'kid or x5t#S256 is missing or differs from base64url(SHA-256(x5c[0]))',
  ERR_RELEASE_SIGNATURE: 'the JWS signature does not verify with the key of x5c[0]',
  ERR_RELEASE_CHAIN: 'the x5c chain does not verify (issuer names, signatures, CA constraints or key usage)',
  ERR_RELEASE_UNTRUSTED: 'the x5c chain reaches neither a trusted root nor a pinned certificate',
  ERR_RELEASE_NO_TRUST: 'no trusted root and no pinned certificate was configured, so nothing can be trusted',
  ERR_RELEASE_CERT_EXPIRED: 'a certificate of the x5c chain has expired at the verification time',
  ERR_RELEASE_CERT_NOT_YET_VALID: 'a certificate of the x5c chain is not yet valid at the verification time',
  ERR_RELEASE_HOSTNAME: 'the signing certificate is not valid for the expected host name',
  ERR_RELEASE_PAYLOAD: 'the JWS payload is not {request, response: {key: {attributes, key, release_policy}}} of the expected types',
  ERR_RELEASE_KEY_ID: 'the released key is not the key the caller asked for',
  ERR_RELEASE_NONCE: 'the nonce in the signed request differs from the one the caller sent',
  ERR_RELEASE_BINDING: "the key is wrapped to another key than the caller's own TEE key",
  ERR_RELEASE_KEY_MISMATCH: "the unwrapped material does not match the released key's type, size or public part",
  ERR_RELEASE_SIGNER: 'the release signing key or chain is unusable (not RSA >= 2048, or key and leaf certificate differ)',
  // Audit log
  ERR_AUDIT_DETAILS: 'audit details are not JSON, too large, or hold what must never be logged (key material, tokens)',
  ERR_AUDIT_ENTRY_MALFORMED: 'a stored audit entry cannot be read (bad kind, time, subject or details)',
  ERR_AUDIT_SEQ_GAP: 'an audit entry is missing: sequence numbers are not consecutive from 1',
  ERR_AUDIT_HASH: "an audit entry's hash does not match its content and the previous hash (edited, swapped or reordered)",
  ERR_AUDIT_CHECKPOINT_SIGNATURE: 'a checkpoint signature does not verify with the given public keys (forged checkpoint)',
  ERR_AUDIT_CHECKPOINT_HASH: 'the hash of the log at a checkpoint differs from the signed one (history rewritten)',
  ERR_AUDIT_TRUNCATED: 'the log ends before a signed checkpoint (tail removed)',
  ERR_AUDIT_ANCHOR: 'the checkpoint kept outside the store is not in the log',
  ERR_AUDIT_UNCHECKPOINTED: 'the log has no signed checkpoint but one was required',
  ERR_AUDIT_SIGNER: 'the checkpoint key is not Ed25519 or ECDSA P-256/P-384',
} as const;

export type KeystoreErrorCode = keyof typeof KEYSTORE_ERROR_CODES;

/** A failure with a stable code. The message is safe to log and show: it never holds key material. */
export class KeystoreError extends Error {
  override readonly name = 'KeystoreError';
  readonly code: KeystoreErrorCode;

  constructor(code: KeystoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  toJSON(): { code: KeystoreErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isKeystoreError(e: unknown): e is KeystoreError {
  return e instanceof KeystoreError;
}

/** Zeroes key buffers in place; a caller that passes a buffer here must not use it again. */
export function wipe(...buffers: Array<Uint8Array | undefined>): void {
  for (const b of buffers) b?.fill(0);
}

/** The short name of a caught value for messages: an errno code or class name, never a message that could echo input. */
export function causeName(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.name : 'error';
}
