/**
 * The runner's validated configuration (`/etc/zt4ai/runner.json`, schema `zt4ai-runner-config/draft-1`).
 * Field names follow the draft the Bicep templates already write (listen, evidence, attestation, keySource,
 * sealedModel, trustedSigners, guardians); paths in the file are relative to the file.
 */
export const CONFIG_SCHEMA = 'zt4ai-runner-config/draft-1';

/** Where SEV-SNP evidence comes from. `simulated` is never auto-detected: it must be asked for. */
export type EvidenceConfig =
  | { readonly kind: 'auto' }
  | { readonly kind: 'configfs-tsm'; readonly path: string }
  | { readonly kind: 'simulated'; readonly path: string }
  | { readonly kind: 'azure-vtpm' };

/** The attestation service the runner sends its evidence to. */
export interface AttestationConfig {
  /** `zt4ai-krs` (challenge + MAA wire format) or `azure-maa` (the same API, no challenge endpoint). */
  readonly kind: 'zt4ai-krs' | 'azure-maa';
  /** Base URL, e.g. http://127.0.0.1:8443 or https://<name>.attest.azure.net. */
  readonly url: string;
  /** PEM CA bundle for the service's TLS certificate (default: the system's CAs). */
  readonly tlsCaFile: string | null;
}

/** Whose release responses the runner trusts: a CA/root PEM, pinned certificate fingerprints, or the KRS's own CA fetched from it. */
export type ReleaseSignerTrust = { readonly caFile: string } | { readonly pinnedSha256: readonly string[] } | { readonly fetch: true };

/** How the runner authenticates to the key service. */
export type CredentialConfig = { readonly tokenFile: string } | { readonly azure: { readonly managedIdentityClientId: string | null } };

/** The key service holding the model key (a zt4ai KRS or Azure Key Vault / Managed HSM). */
export interface KeySourceConfig {
  readonly kind: 'zt4ai-krs' | 'azure-key-vault';
  /** The vault URL. */
  readonly vaultUrl: string;
  readonly keyName: string;
  /** A pinned key version; null: the version the sealed model names, else the current one. */
  readonly keyVersion: string | null;
  readonly tlsCaFile: string | null;
  readonly credential: CredentialConfig;
  readonly releaseSigner: ReleaseSignerTrust;
  /** Key Vault's `enc` for the release (default RSA_AES_KEY_WRAP_256). */
  readonly enc: 'CKM_RSA_AES_KEY_WRAP' | 'RSA_AES_KEY_WRAP_256' | 'RSA_AES_KEY_WRAP_384';
}

/** The sealed model and where its plaintext may live. */
export interface SealedModelConfig {
  /** The sealed model directory (`*.sealed` containers and `model.sig`). */
  readonly path: string;
  /** `memory`: plaintext stays in this process; `tmpfs`: 0600 files in `plaintextDir` (for upstream servers). */
  readonly unsealTo: 'memory' | 'tmpfs';
  /** Where tmpfs plaintext goes; null: a fresh /dev/shm/zt4ai-runner-<pid>-<random>. Must be on tmpfs. */
  readonly plaintextDir: string | null;
}

/** A model signer the runner trusts: an ECDSA P-256/P-384 public key (PEM). */
export interface TrustedSigner {
  readonly publicKeyPem: string;
}

/** The inference backend: the n-gram demo model, or a proxy to a loopback OpenAI-compatible server. */
export type BackendConfig =
  | { readonly kind: 'ngram'; readonly file: string }
  | { readonly kind: 'openai-proxy'; readonly url: string; readonly model: string | null; readonly timeoutMs: number };

/** The input guardian and session termination. */
export interface InputGuardConfig {
  readonly enabled: boolean;
  /** Calibrated score thresholds for the user message; null: the committed, dev-tuned defaults. */
  readonly thresholds: { readonly flag: number; readonly block: number } | null;
  /** How long a block ends the session; 0 never ends sessions. Default 900. */
  readonly endSessionSeconds: number;
  /** What a block ends (default both). */
  readonly endSession: ReadonlyArray<'conversation' | 'apiKey'>;
  /** Longer inputs are blocked unscanned. Default 262144. */
  readonly maxInputChars: number;
}

/** The output guardian on the token stream. */
export interface OutputGuardConfig {
  readonly enabled: boolean;
  /** What a system-prompt leak (canary or a copied run) does: stop the stream (default) or redact it. */
  readonly leakAction: 'block' | 'redact';
  /** Entity types not to redact, e.g. ["PERSON", "LOCATION"]. */
  readonly disable: readonly string[];
}

/** Both guardians and where their decisions are audited. */
export interface GuardiansConfig {
  readonly input: InputGuardConfig;
  readonly output: OutputGuardConfig;
  /** Guardian events as JSON lines in this file (0600, appended); null: in the log. Never the text. */
  readonly auditFile: string | null;
}

/** An API key the runner accepts: an id for logs and metrics, and the SHA-256 (hex) of the bearer secret. */
export interface ApiKeyConfig {
  readonly id: string;
  readonly sha256: string;
}

/** Request and token limits of the API. */
export interface LimitsConfig {
  /** Request bodies above this are refused (413). Default 1 MiB. */
  readonly bodyLimitBytes: number;
  /** Upper bound (and default) of max_tokens. Default 512. */
  readonly maxTokens: number;
  /** Messages per request. Default 64. */
  readonly maxMessages: number;
}

/** The whole validated configuration (see resolveRunnerConfig for defaults). */
export interface RunnerConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  readonly evidence: EvidenceConfig;
  /** Size of the TEE key the released key is wrapped to. Default 3072 (2048 is faster to generate). */
  readonly teeKeyBits: 2048 | 3072;
  readonly attestation: AttestationConfig;
  readonly keySource: KeySourceConfig;
  readonly sealedModel: SealedModelConfig;
  readonly trustedSigners: readonly TrustedSigner[];
  readonly backend: BackendConfig;
  /** The id in /v1/models and responses. Default "zt4ai-model". */
  readonly modelId: string;
  /** The runner's system prompt; a fresh canary is added to it at start-up. */
  readonly systemPrompt: string;
  readonly guardians: GuardiansConfig;
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly limits: LimitsConfig;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}
