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
  | AzureVtpmEvidenceConfig;

/** The Azure confidential VM's vTPM, read with tpm2-tools; the VCEK chain from THIM, else AMD KDS. */
export interface AzureVtpmEvidenceConfig {
  readonly kind: 'azure-vtpm';
  /** The TCTI tpm2-tools use (TPM2TOOLS_TCTI); null: `device:/dev/tpmrm0`. */
  readonly tcti: string | null;
  /** Base URL of the instance metadata service serving THIM; null: http://169.254.169.254. */
  readonly thimUrl: string | null;
  /** AMD KDS base URL for the fallback; null: https://kdsintf.amd.com. */
  readonly kdsUrl: string | null;
  /** The TCG event log MAA's AzureGuest flow sends; null: /sys/kernel/security/tpm0/binary_bios_measurements. */
  readonly tcgLog: string | null;
}

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
  /** The sealed model directory (`*.sealed` containers and `model.sig`); with `blob`, where the download directory is made. */
  readonly path: string;
  /** `memory`: plaintext stays in this process; `tmpfs`: 0600 files in `plaintextDir` (for upstream servers). */
  readonly unsealTo: 'memory' | 'tmpfs';
  /** Where tmpfs plaintext goes; null: a fresh /dev/shm/zt4ai-runner-<pid>-<random>. Must be on tmpfs. */
  readonly plaintextDir: string | null;
  /** `kind: "azure-blob"`: the sealed directory is downloaded from Blob Storage into a fresh 0700 directory under `path` first. */
  readonly blob?: AzureBlobSource;
}

/** A sealed model directory kept in Azure Blob Storage (ciphertext only), read with the workload's managed identity. */
export interface AzureBlobSource {
  /** The account URL: https://<account>.blob.core.windows.net, or path-style http://127.0.0.1:<port>/<account> for an IP host (emulators). */
  readonly accountUrl: string;
  readonly container: string;
  /** The blob-name prefix of the directory: "" or ending in "/". */
  readonly prefix: string;
  /** The user-assigned identity; null: DefaultAzureCredential (AZURE_CLIENT_ID, then the VM's identity). */
  readonly managedIdentityClientId: string | null;
  /** The download is refused when its blobs add up to more. Default 256 GiB. */
  readonly maxBytes: number;
}

/** A model signer the runner trusts: an ECDSA P-256/P-384 public key (PEM). */
export interface TrustedSigner {
  readonly publicKeyPem: string;
}

/** Where llama.cpp runs: `auto` takes a GPU when one and its prebuilt binary are present, else the CPU. */
export type LlamaGpu = 'auto' | 'cpu' | 'cuda' | 'vulkan' | 'metal';

/** GGUF models in this process through node-llama-cpp (llama.cpp). */
export interface LlamaBackendConfig {
  readonly kind: 'llama';
  /** The GGUF file inside the unsealed model. */
  readonly file: string;
  /** CPU threads per evaluation. Default 1: llama.cpp's threads spin, so more threads than free cores is far slower. */
  readonly threads: number;
  readonly gpu: LlamaGpu;
  /** Tokens of context per sequence; null: the model's training context, at most 4096. */
  readonly contextSize: number | null;
  /** Requests evaluated at once (context sequences); more wait their turn. Default 1. */
  readonly parallel: number;
  /** `chat`: the model's chat template; `completion`: the last user message as plain text; `auto`: chat when the model has a template. */
  readonly promptFormat: 'auto' | 'chat' | 'completion';
}

/** How the runner starts the upstream itself: argv with `{model}` (the unsealed file in tmpfs) and `{port}` (a free loopback port). */
export interface UpstreamCommand {
  readonly argv: readonly string[];
  /** The file of the unsealed model that `{model}` names. */
  readonly file: string;
  /** How long the upstream may take to answer GET /v1/models. Default 120000. */
  readonly startTimeoutMs: number;
}

/** A loopback OpenAI-compatible server (llama.cpp's llama-server, vLLM, Ollama): pointed at (`url`), or started (`command`). */
export interface UpstreamBackendConfig {
  readonly kind: 'openai-upstream';
  /** The upstream's base URL; null when the runner starts it (`command`) on a port of its choosing. */
  readonly url: string | null;
  readonly command: UpstreamCommand | null;
  readonly model: string | null;
  readonly timeoutMs: number;
}

/** The inference backend: llama.cpp in-process, a loopback OpenAI-compatible upstream, or the word-level n-gram toy. */
export type BackendConfig = { readonly kind: 'ngram'; readonly file: string } | LlamaBackendConfig | UpstreamBackendConfig;

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
