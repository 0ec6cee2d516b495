/**
 * The runner's catalogue of failures. Every start-up failure carries one of these stable codes, the step
 * it happened in, and, when another component decided (the KRS, keys/, the evidence source), that
 * component's own code as `reason`. Messages never hold key material, tokens, prompts or model bytes.
 */
export const RUNNER_ERROR_CODES = {
  ERR_RUNNER_CONFIG: 'the runner configuration is invalid, or a file it names cannot be read',
  ERR_RUNNER_NO_EVIDENCE_SOURCE: 'no SEV-SNP evidence source was found; the message names every path looked for',
  ERR_RUNNER_TPM_TOOLS_MISSING: 'the Azure vTPM evidence source needs tpm2-tools, which is not installed (Debian/Ubuntu: apt-get install tpm2-tools)',
  ERR_RUNNER_TPM: 'a tpm2-tools command failed or timed out: the TPM cannot be reached through the configured TCTI, or it refused the command',
  ERR_RUNNER_TPM_NV_INDEX: 'an NV index of the Azure vTPM flow is not defined (no HCL report at 0x01400001: not an Azure confidential VM?)',
  ERR_RUNNER_VCEK_UNAVAILABLE: 'the VCEK chain for the HCL report could be fetched neither from Azure THIM nor from AMD KDS',
  ERR_RUNNER_EVIDENCE: 'the evidence source failed: wrong provider, a concurrent request, no answer in time, or a malformed report, HCL report, TPM quote or certificate table',
  ERR_RUNNER_ATTEST_UNAVAILABLE: 'the attestation service could not be reached, or failed (network, TLS, HTTP 5xx)',
  ERR_RUNNER_ATTEST_REFUSED: "the attestation service refused the evidence; the reason carries the service's code",
  ERR_RUNNER_ATTEST_INVALID: "the attestation service's AzureGuest answer cannot be opened by this vTPM (not MAA's encrypted token, or encrypted to another key)",
  ERR_RUNNER_RELEASE_UNAVAILABLE: 'the key service could not be reached, or failed (network, TLS, HTTP 5xx)',
  ERR_RUNNER_RELEASE_AUTH: "the key service refused the runner's credential (HTTP 401, or 403 without the release role)",
  ERR_RUNNER_RELEASE_DENIED: "the key service refused to release the key (its release policy does not hold for this TEE's claims, or the key is missing, disabled or not exportable); the reason carries its code",
  ERR_RUNNER_RELEASE_INVALID: 'the release response does not verify (signature, signer trust, binding to this TEE key, key material)',
  ERR_RUNNER_RELEASE_TRUST: "the release signer's CA certificate cannot be read or fetched",
  ERR_RUNNER_BLOB_AUTH: "Blob Storage refused the runner's managed identity (HTTP 401/403: the identity lacks Storage Blob Data Reader on the container), or no token could be obtained for it",
  ERR_RUNNER_BLOB_NOT_FOUND: 'the sealed model is not in Blob Storage: the container does not exist, a blob vanished, or no *.sealed blob is under the prefix',
  ERR_RUNNER_BLOB_TOO_LARGE: 'the sealed model in Blob Storage is larger than sealedModel.maxBytes, has too many blobs, or does not fit on the download disk',
  ERR_RUNNER_BLOB_INVALID: 'Blob Storage answered something the runner does not accept (malformed listing, an unsafe blob name, a blob whose size differs from its listing)',
  ERR_RUNNER_BLOB_UNAVAILABLE: 'Blob Storage could not be reached, or failed (network, TLS, HTTP 5xx)',
  ERR_RUNNER_BLOB_IO: 'the downloaded sealed model cannot be written to its private directory (not writable, full)',
  ERR_RUNNER_MODEL_SIGNATURE: "the sealed model's signature does not verify with a trusted signer's key",
  ERR_RUNNER_UNSEAL_KEY: 'the released key does not open the sealed model (another key, or a key type the containers do not use)',
  ERR_RUNNER_MODEL_TAMPERED: 'the sealed model does not match its signed manifest (a container changed, missing, added, truncated or corrupt)',
  ERR_RUNNER_UNSEAL_IO: 'the plaintext cannot be written where the configuration says (not tmpfs, not writable, full, or a foreign directory)',
  ERR_RUNNER_MODEL_LOAD: 'the unsealed model cannot be loaded by the backend',
  ERR_RUNNER_BACKEND: 'the inference backend is unreachable or answered an error',
  ERR_RUNNER_LISTEN: 'the runner cannot listen on the configured address',
  ERR_RUNNER_STOPPED: 'the runner was stopped before start-up completed',
  ERR_RUNNER_INTERNAL: 'an unexpected internal error',
} as const;

export type RunnerErrorCode = keyof typeof RUNNER_ERROR_CODES;

/** What another component said when it decided: its code, message and, for policy denials, every clause. */
export interface RunnerReason {
  readonly code: string;
  readonly message?: string;
  readonly details?: ReadonlyArray<{ readonly code: string; readonly message: string }>;
}

/** A runner failure with a stable code; `step` is the start-up step it stopped (when there is one). */
export class RunnerError extends Error {
  override readonly name = 'RunnerError';
  readonly code: RunnerErrorCode;
  readonly reason: RunnerReason | undefined;
  step: string | undefined;

  constructor(code: RunnerErrorCode, message?: string, options: { cause?: unknown; reason?: RunnerReason; step?: string } = {}) {
    super(message ?? RUNNER_ERROR_CODES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options.reason;
    this.step = options.step;
  }

  /** The JSON form /status and `--json` print. */
  toJSON(): { code: RunnerErrorCode; message: string; reason?: RunnerReason } {
    return { code: this.code, message: this.message, ...(this.reason ? { reason: this.reason } : {}) };
  }
}

export function isRunnerError(e: unknown): e is RunnerError {
  return e instanceof RunnerError;
}

/** A failure of keys/ or attestation/ (they carry `code`) as its reason, else nothing. */
export function reasonOf(e: unknown): RunnerReason | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return undefined;
  return { code, ...(typeof message === 'string' ? { message: message.slice(0, 500) } : {}) };
}
