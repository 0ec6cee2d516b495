/**
 * The one catalogue of failures in keys/ (signatures, sealed containers, data keys). Every failure carries a
 * stable `code` that callers, the CLI's --json output and release logs switch on. Codes never change meaning;
 * new failures get new codes. Messages never hold key material.
 */
export const KEY_ERROR_CODES = {
  // Model signatures: the bundle and its envelope
  ERR_SIG_BUNDLE_MALFORMED: 'the signature file is not a Sigstore bundle JSON of the expected shape',
  ERR_SIG_BUNDLE_MEDIA_TYPE: 'the bundle mediaType is not application/vnd.dev.sigstore.bundle.v0.3+json',
  ERR_SIG_PAYLOAD_TYPE: 'the DSSE payloadType is not application/vnd.in-toto+json',
  ERR_SIG_SIGNATURE_COUNT: 'the DSSE envelope does not carry exactly one signature',
  ERR_SIG_MATERIAL: "the bundle's verification material does not fit the chosen verification mode",
  ERR_SIG_KEY_MISMATCH: 'the bundle names a signing key that is not one of the trusted keys',
  ERR_SIG_SIGNATURE_INVALID: 'the DSSE signature does not verify',
  ERR_SIG_CERT_PARSE: 'a certificate in the bundle or trust configuration cannot be parsed',
  ERR_SIG_CERT_CHAIN: 'the signing certificate does not chain to a trusted CA',
  ERR_SIG_CERT_VALIDITY: "a certificate of the chain is not valid at the signing certificate's notBefore",
  ERR_SIG_CERT_USAGE: 'the signing certificate has neither KeyUsage digitalSignature nor EKU codeSigning',
  ERR_SIG_CERT_CA: 'an issuing certificate is not a CA (basicConstraints, keyCertSign or pathLen)',
  ERR_SIG_SIGSTORE: 'the keyless Sigstore bundle does not verify against the trusted root',
  ERR_SIG_IDENTITY: 'the keyless signer identity or OIDC issuer differs from the expected one',
  // Model signatures: the in-toto statement and the manifest
  ERR_SIG_STATEMENT_MALFORMED: 'the DSSE payload is not an in-toto statement of the expected shape',
  ERR_SIG_STATEMENT_TYPE: 'the statement _type is not https://in-toto.io/Statement/v1',
  ERR_SIG_PREDICATE_LEGACY: 'the predicate is a pre-1.0 model_signing predicate (v0.x), which is not accepted',
  ERR_SIG_PREDICATE_TYPE: 'the predicateType is not https://model_signing/signature/v1.0',
  ERR_SIG_SUBJECT: 'the statement does not have exactly one subject with a SHA-256 digest',
  ERR_SIG_ROOT_DIGEST: 'the subject digest differs from the root digest recomputed from the resources',
  ERR_SIG_SERIALIZATION: 'the serialization (method, hash type, shard size) is not supported',
  ERR_SIG_RESOURCE_MALFORMED: 'a manifest resource has a bad name, algorithm or digest, or appears twice',
  // The model on disk compared with the signed manifest
  ERR_MODEL_NOT_FOUND: 'the model path does not exist or is neither a file nor a directory',
  ERR_MODEL_UNREADABLE: 'a model file cannot be read',
  ERR_MODEL_SYMLINK: 'the model contains a symbolic link and symlinks are not allowed',
  ERR_MODEL_FILE_MISSING: 'a signed file is missing from the model',
  ERR_MODEL_FILE_EXTRA: 'the model contains a file that is not signed and not ignored',
  ERR_MODEL_FILE_MISMATCH: 'a model file differs from its signed digest',
  // Keys
  ERR_KEY_INVALID: 'a key cannot be parsed (expected PEM or JWK)',
  ERR_KEY_UNSUPPORTED: 'the key type or curve is not supported here (ECDSA P-256/P-384 to sign, RSA >= 2048 to wrap)',
  ERR_KEY_UNWRAP: 'the wrapped data key cannot be unwrapped with the given key',
  ERR_KEY_NOT_AVAILABLE: 'no data key is available for the key reference (kid) of the container',
  ERR_KEY_DATA_KEY: 'a data key is not 32 bytes',
  // Sealed containers
  ERR_SEAL_MAGIC: 'the file is not a zt4ai sealed-model container (bad magic)',
  ERR_SEAL_VERSION: 'the container format version is not supported',
  ERR_SEAL_ALG: 'the container algorithm identifier is not supported',
  ERR_SEAL_HEADER_MALFORMED: 'the container header is truncated or has an invalid field',
  ERR_SEAL_META_MALFORMED: 'the container metadata JSON is invalid',
  ERR_SEAL_WRONG_KEY: 'the data key does not match the container (key check failed)',
  ERR_SEAL_HEADER_TAMPERED: 'the container header was modified after sealing (commitment tag mismatch)',
  ERR_SEAL_NAME_MISMATCH: 'the container belongs to another file name than the one expected',
  ERR_SEAL_ROOT_MISMATCH: 'the container belongs to another model (OMS root digest differs)',
  ERR_SEAL_BUNDLE_MISMATCH: 'the signature bundle differs from the one the container was sealed with',
  ERR_SEAL_TRUNCATED: 'the container is shorter than its header says (truncated)',
  ERR_SEAL_TRAILING_DATA: 'the container is longer than its header says (appended data or duplicated chunks)',
  ERR_SEAL_CHUNK_REORDERED: 'a chunk sits at the position of another chunk (reordered)',
  ERR_SEAL_CHUNK_DUPLICATED: 'a chunk is a copy of another chunk of the same file (duplicated)',
  ERR_SEAL_CHUNK_CORRUPT: 'a chunk does not authenticate (bit flip or corruption)',
  ERR_SEAL_CHUNK_INDEX: 'the chunk index is outside the container',
  ERR_SEAL_DIGEST_MISMATCH: 'the decrypted file differs from its signed OMS digest',
  ERR_SEAL_SOURCE_CHANGED: 'a model file changed between hashing and sealing',
  ERR_SEAL_MANIFEST: 'the sealed model has no usable manifest (model.sig or model.manifest.json)',
  ERR_SEAL_FILE_MISSING: 'a file of the manifest has no sealed container',
  ERR_SEAL_FILE_UNEXPECTED: 'a sealed container is not named by the manifest',
  ERR_SEAL_OPTIONS: 'the sealing options are invalid (chunk size, names, output location)',
  ERR_SEAL_IO: 'a container or output file cannot be read or written',
} as const;

export type KeyErrorCode = keyof typeof KEY_ERROR_CODES;

/** A failure with a stable code. `path`, when set, names the model file or container concerned. */
export class KeyError extends Error {
  override readonly name = 'KeyError';
  readonly code: KeyErrorCode;
  readonly path: string | undefined;

  constructor(code: KeyErrorCode, message: string, options?: { cause?: unknown; path?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options?.path;
  }

  toJSON(): { code: KeyErrorCode; message: string; path?: string } {
    return this.path === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, path: this.path };
  }
}

export function isKeyError(e: unknown): e is KeyError {
  return e instanceof KeyError;
}

/** Zeroes key buffers in place; callers keep the buffers they pass and must not reuse them. */
export function wipe(...buffers: Array<Uint8Array | undefined>): void {
  for (const b of buffers) b?.fill(0);
}
