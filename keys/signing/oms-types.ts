/** Wire constants and shapes of an OpenSSF Model Signing (OMS) v1.0 signature. */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** v0.x predicates (e.g. `https://model_signing/Digests/v0.1`) share this prefix; they are refused. */
export const LEGACY_PREDICATE_PREFIX = 'https://model_signing/';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** What the reference signer ignores by default, besides the signature file itself. */
export const DEFAULT_IGNORE_PATHS: readonly string[] = ['.git', '.gitattributes', '.github', '.gitignore'];
export const DEFAULT_SIGNATURE_FILE = 'model.sig';
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

/** How the model was turned into resources. Field names are ours; the wire names are snake_case. */
export interface Serialization {
  readonly method: 'files' | 'shards';
  readonly hashType: 'sha256';
  readonly allowSymlinks: boolean;
  /** Only for `shards`. */
  readonly shardSize?: number;
  /** Recorded by signers since model_signing 1.1.0; relative to the model root. */
  readonly ignorePaths?: readonly string[];
}

/** One manifest entry: a file (`files`) or `path:start:end` (`shards`). */
export interface Resource {
  readonly name: string;
  readonly algorithm: string;
  /** Lowercase hex. */
  readonly digest: string;
}

/** The signed content: what the in-toto statement carries, in the order it is hashed. */
export interface Manifest {
  /** Subject name: the model directory's (or file's) basename; informational only. */
  readonly modelName: string;
  readonly serialization: Serialization;
  readonly resources: readonly Resource[];
  /** SHA-256 over the raw resource digests in listed order (lowercase hex). */
  readonly rootDigest: string;
}
