/**
 * The KRS error catalogue: every failure the service answers with has a stable code, one HTTP status and a
 * default message. Bodies follow MAA's CloudError shape, `{"error":{"code","message","details"?}}`, where
 * `details` lists every failed check as `{code, message}`. Messages never carry evidence, nonces or tokens.
 *
 * Status policy: the request cannot be read (400, 413, 415); the evidence is read but the service refuses to
 * attest it (403: not genuine, not bound to the data, not fresh, or from the simulator this instance does not
 * trust; the code says which). 401 is kept for what RFC 7235 means by it, a missing or bad administrator
 * credential with a WWW-Authenticate challenge. Too many requests (429); dependency trouble (502/503).
 * The key, release and audit APIs answer these codes in Key Vault's error shape (key-vault-reply.ts); every
 * refused release is a 403 with Key Vault's message, and the reason's code here.
 */
export const KRS_ERROR_CODES = {
  ERR_INVALID_REQUEST: { status: 400, message: 'the request does not match the schema of this endpoint' },
  ERR_MALFORMED_JSON: { status: 400, message: 'the request body is not valid JSON' },
  ERR_API_VERSION_UNSUPPORTED: { status: 400, message: 'the api-version query parameter is missing or not one of 2020-10-01, 2022-08-01, 2025-06-01' },
  ERR_INVALID_BASE64URL: { status: 400, message: 'a field that must be base64url (RFC 4648 §5, padded or not) is not' },
  ERR_INVALID_REPORT_JSON: { status: 400, message: 'report must be base64url of a JSON object {SnpReport, VcekCertChain?, Endorsements?}' },
  ERR_INVALID_RUNTIME_DATA: { status: 400, message: 'runtimeData with dataType JSON must be a UTF-8 JSON object' },
  ERR_INVALID_INIT_TIME_DATA: { status: 400, message: 'initTimeData with dataType JSON must be a UTF-8 JSON object' },
  ERR_INVALID_CERT_CHAIN: { status: 400, message: 'VcekCertChain must be base64url of PEM certificates (VCEK, then ASK and ARK)' },
  ERR_INVALID_CVM_CERTIFICATES: { status: 400, message: 'certificates must be base64url of PEM certificates (VCEK, then ASK and ARK) or of Azure THIM JSON {vcekCert, certificateChain}' },
  ERR_INVALID_PCRS: { status: 400, message: 'pcrs must map PCR indices 0..255 to hex digests of one bank ({"<index>": "<hex>"})' },
  ERR_AZURE_GUEST_MALFORMED: { status: 400, message: "AttestationInfo is not the request of Microsoft's guest attestation library (base64url JSON with TpmInfo, IsolationInfo, …); see details for the field" },
  ERR_AZURE_GUEST_ISOLATION: { status: 400, message: 'IsolationInfo.Type is not SevSnp: only SEV-SNP confidential VMs are attested (a TrustedLaunch VM has no TEE)' },
  ERR_BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than this service accepts' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'send the request body as application/json' },
  ERR_EVIDENCE_REJECTED: { status: 403, message: 'the SEV-SNP evidence did not verify; see details for every failed check' },
  ERR_RUNTIME_DATA_NOT_BOUND: { status: 403, message: 'REPORT_DATA does not commit to runtimeData (SHA-256 in bytes 0..32, zeros in 32..64)' },
  ERR_INIT_TIME_DATA_NOT_BOUND: { status: 403, message: 'HOST_DATA is not the SHA-256 of initTimeData' },
  ERR_NONCE_INVALID: { status: 403, message: 'the nonce in runtimeData was not issued by this service (malformed or forged)' },
  ERR_NONCE_EXPIRED: { status: 403, message: 'the nonce in runtimeData has expired; get a new one from POST /attest/challenge' },
  ERR_NONCE_REPLAYED: { status: 403, message: 'the nonce in runtimeData was already used; get a new one from POST /attest/challenge' },
  ERR_NONCE_REQUIRED: { status: 403, message: 'this service requires fresh evidence: put a nonce from POST /attest/challenge in runtimeData' },
  ERR_HCL_EVIDENCE_REJECTED: { status: 403, message: 'the Azure confidential-VM evidence (HCL report, SNP report, TPM quote) did not verify; see details for every failed check' },
  ERR_AZURE_GUEST_REJECTED: { status: 403, message: 'the AzureGuest evidence (SNP report, runtime claims, TPM quote, certified encryption key, AK certificate, TCG log) did not verify; see details for every failed check' },
  ERR_QUOTE_NONCE: { status: 403, message: "the TPM quote's extraData is not SHA-256(challenge nonce ‖ runtimeData): it was made for another challenge, or over other runtime data" },
  ERR_SIMULATED_NOT_TRUSTED: { status: 403, message: 'the evidence chains to the SIMULATED AMD root, which this service does not trust' },
  ERR_ATTESTATION_TYPE_UNSUPPORTED: { status: 404, message: 'this service attests SevSnpVm, AzureGuest and AzureCvm only' },
  ERR_NOT_FOUND: { status: 404, message: 'no such endpoint' },
  ERR_KEYS_API_VERSION: { status: 400, message: 'the api-version query parameter of the key API is missing or not one of 7.3, 7.4, 7.5, 7.6, 2025-07-01' },
  ERR_KEY_FEATURE_UNSUPPORTED: { status: 400, message: 'a Key Vault feature this KRS does not implement (tags, nbf/exp, changing key_ops, public_exponent other than 65537)' },
  ERR_POLICY_VERSIONLESS: { status: 400, message: 'a release policy can only be set on the versionless key (Key Vault AKV.SKR.1016)' },
  ERR_AUDIT_QUERY: { status: 400, message: 'audit query: key is a key name, since/until are ISO 8601 times, limit and last are 1-1000, after is a sequence number' },
  ERR_AUTH_MISSING: { status: 401, message: 'Request is missing a Bearer or PoP token.' },
  ERR_AUTH_INVALID: { status: 401, message: 'the bearer token is neither the administrator token nor a valid token of the configured issuer and audience' },
  ERR_AUTH_ROLE: { status: 403, message: 'the caller lacks the role this operation needs (keys.admin, keys.release or audit.read)' },
  ERR_TARGET_MALFORMED: { status: 403, message: 'the release target is not a signed JWT with iss and exp' },
  ERR_TARGET_UNTRUSTED_ISSUER: { status: 403, message: 'the release target was issued neither by this KRS nor by a configured trusted issuer' },
  ERR_TARGET_JKU_MISMATCH: { status: 403, message: "the release target's jku header names another key set than its issuer's published JWKS (it is never fetched)" },
  ERR_TARGET_SIGNATURE: { status: 403, message: "the release target's signature does not verify with its issuer's published keys" },
  ERR_TARGET_EXPIRED: { status: 403, message: 'the release target has expired' },
  ERR_TARGET_NOT_YET_VALID: { status: 403, message: 'the release target is not valid yet (nbf or iat in the future)' },
  ERR_TARGET_NO_TEE_KEY: { status: 403, message: 'the release target has no RSA key with a kid in x-ms-runtime.keys to wrap the key to' },
  ERR_RELEASE_POLICY_DENIED: { status: 403, message: "the key's release policy does not hold for the target's claims; details list every failing clause" },
  ERR_RELEASE_POLICY_INVALID: { status: 403, message: "the key's stored release policy cannot be evaluated, so nothing is released" },
  ERR_NO_CHECKPOINT: { status: 404, message: 'the audit log has no signed checkpoint yet' },
  ERR_RATE_LIMITED: { status: 429, message: 'too many requests; retry later' },
  ERR_ENDORSEMENT_UNAVAILABLE: { status: 502, message: 'the VCEK had to be fetched from AMD KDS and could not be' },
  ERR_ISSUER_UNAVAILABLE: { status: 502, message: "a trusted issuer's OpenID metadata or JWKS could not be fetched (Key Vault AKV.SKR.1012)" },
  ERR_AUDIT_WRITE: { status: 503, message: 'the decision could not be recorded in the audit log, so it was not carried out; retry later' },
  ERR_OVERLOADED: { status: 503, message: 'the service is overloaded; retry later' },
  ERR_INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type KrsErrorCode = keyof typeof KRS_ERROR_CODES;

/** One failed check inside an error response. */
export interface KrsErrorDetail {
  readonly code: string;
  readonly message: string;
}

/** The CloudError body every error response carries. */
export interface CloudErrorBody {
  error: { code: KrsErrorCode; message: string; details?: KrsErrorDetail[] };
}

/** A failure with a stable code; `statusCode` is what fastify and the error handler answer with. */
export class KrsError extends Error {
  override readonly name = 'KrsError';
  readonly code: KrsErrorCode;
  readonly statusCode: number;
  readonly details: readonly KrsErrorDetail[];

  constructor(code: KrsErrorCode, message?: string, options: { details?: readonly KrsErrorDetail[]; cause?: unknown } = {}) {
    super(message ?? KRS_ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.statusCode = KRS_ERROR_CODES[code].status;
    this.details = options.details ?? [];
  }

  toBody(): CloudErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details.length ? { details: [...this.details] } : {}) } };
  }
}

export function isKrsError(e: unknown): e is KrsError {
  return e instanceof KrsError;
}

/** Failures at start-up (configuration, data directory): the CLI turns them into exit 2 with the message. */
export class KrsStartupError extends Error {
  override readonly name = 'KrsStartupError';
  readonly code: 'ERR_CONFIG' | 'ERR_DATA_DIR' | 'ERR_SIGNING_KEYS' | 'ERR_NONCE_KEY' | 'ERR_TLS' | 'ERR_KEYSTORE' | 'ERR_RELEASE_SIGNER' | 'ERR_ADMIN_AUTH';
  constructor(code: KrsStartupError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
