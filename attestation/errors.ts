/**
 * Every failure in attestation/ carries a stable `code` (callers and release logs switch on it) and a
 * message a person can act on. Codes never change meaning; new failures get new codes.
 */
export const ATTESTATION_ERROR_CODES = {
  ERR_SNP_REPORT_TRUNCATED: 'the attestation report is shorter than 1184 bytes',
  ERR_SNP_REPORT_OVERSIZED: 'the attestation report is longer than 1184 bytes',
  ERR_SNP_REPORT_VERSION: 'the report VERSION is not one this verifier knows',
  ERR_SNP_RESERVED_NONZERO: 'a must-be-zero range of the report is not zero',
  ERR_SNP_POLICY_RESERVED: 'reserved bits of the guest POLICY are wrong (bit 17 must be 1, bits 26-63 zero)',
  ERR_SNP_KEY_INFO_RESERVED: 'reserved bits 31:5 of KEY_INFO are set',
  ERR_SNP_SIGNATURE_ALGO: 'SIGNATURE_ALGO is not 1 (ECDSA P-384 with SHA-384)',
  ERR_SNP_SIGNING_KEY: 'KEY_INFO.SIGNING_KEY is neither VCEK (0) nor VLEK (1)',
  ERR_SNP_MASK_CHIP_KEY: 'MASK_CHIP_KEY is set: the firmware did not sign this report',
  ERR_SNP_VMPL: 'VMPL is outside 0..3',
  ERR_SNP_SIGNATURE_ENCODING: 'the signature R or S field has non-zero bytes above the P-384 range',
  ERR_SNP_SIGNATURE_INVALID: 'the report signature does not verify with the endorsement key',
  ERR_SNP_PRODUCT_UNKNOWN: 'the processor family/model is not a supported SEV-SNP product',
  ERR_SNP_PRODUCT_MISMATCH: "the report's processor does not match the certificate chain's product",
  ERR_SNP_PRODUCT_UNDETERMINED: 'the product cannot be determined (v1/v2 report without certificate or --product)',
  ERR_SNP_TCB_MISMATCH: "the certificate's TCB extensions differ from REPORTED_TCB",
  ERR_SNP_TCB_ORDER: 'REPORTED_TCB is above CURRENT_TCB for some component',
  ERR_SNP_CHIP_ID_MISMATCH: "the VCEK's hwID differs from the report's CHIP_ID",
  ERR_SNP_CHIP_ID_MASKED: 'CHIP_ID is all zero (MASK_CHIP_ID) on a VCEK-signed report',
  ERR_SNP_SIGNER_KIND_MISMATCH: "the report's SIGNING_KEY does not match the certificate kind (VCEK vs VLEK)",
  ERR_CERT_PARSE: 'a certificate could not be parsed',
  ERR_CERT_MISSING: 'no endorsement certificate (VCEK/VLEK) was supplied or could be obtained',
  ERR_CERT_CHAIN: 'the certificate chain does not verify up to a pinned AMD root',
  ERR_CERT_ROOT_UNTRUSTED: 'the root certificate is not a pinned AMD root',
  ERR_CERT_NOT_YET_VALID: 'a certificate is not yet valid at the verification time',
  ERR_CERT_EXPIRED: 'a certificate has expired at the verification time',
  ERR_CERT_REVOKED: "a certificate is listed on the product's AMD CRL",
  ERR_CERT_EXTENSION: 'an AMD certificate extension is missing, duplicated or malformed',
  ERR_CERT_SHAPE: 'a certificate does not have the subject, issuer or key type AMD uses for its role',
  ERR_CRL_INVALID: "the CRL is malformed or not signed by the product's ARK",
  ERR_CRL_STALE: 'the CRL is outside its thisUpdate..nextUpdate window',
  ERR_CRL_UNAVAILABLE: 'revocation checking was requested but no CRL could be obtained',
  ERR_KDS_OFFLINE: 'offline mode: a certificate would have to be fetched from AMD KDS',
  ERR_KDS_FETCH: 'AMD KDS did not return the certificate',
  ERR_KDS_RATE_LIMITED: 'AMD KDS kept answering HTTP 429 (rate limited)',
  ERR_HCL_TRUNCATED: 'the HCL report is shorter than its header, SNP report and declared runtime claims',
  ERR_HCL_OVERSIZED: 'the HCL report is larger than 64 KiB or has non-zero bytes after its declared size',
  ERR_HCL_MAGIC: 'the HCL report does not start with "HCLA"',
  ERR_HCL_VERSION: 'the HCL header or IGVM request data VERSION is not one this verifier knows',
  ERR_HCL_LAYOUT: 'the sizes in the HCL header and IGVM request data disagree with each other',
  ERR_HCL_REPORT_TYPE: 'the HCL report does not carry an SEV-SNP report (TDX, VBS and TVM are not supported)',
  ERR_HCL_HASH_TYPE: 'the HCL report data hash type is not SHA-256, SHA-384 or SHA-512',
  ERR_HCL_RUNTIME_CLAIMS: 'the runtime claims are not well-formed JSON of the Azure shape',
  ERR_HCL_AK_MISSING: 'the runtime claims carry no HCLAkPub key',
  ERR_HCL_KEY_INVALID: 'a runtime-claims key (HCLAkPub, HCLEkPub) is not a usable RSA public JWK',
  ERR_HCL_CLAIMS_NOT_BOUND: 'REPORT_DATA is not the hash of the runtime claims followed by zero bytes',
  ERR_HCL_VMPL: 'the SNP report inside the HCL report was not requested at VMPL 0',
  ERR_HCL_USER_DATA: 'the runtime claims user-data does not start with the expected value',
  ERR_TPM_QUOTE_MISSING: 'a TPM quote is required but none was supplied',
  ERR_TPM_ATTEST_MALFORMED: 'the TPMS_ATTEST structure is truncated, has trailing bytes or a malformed field',
  ERR_TPM_QUOTE_MAGIC: 'the TPMS_ATTEST magic is not TPM_GENERATED_VALUE (0xff544347)',
  ERR_TPM_QUOTE_TYPE: 'the TPMS_ATTEST type is not TPM_ST_ATTEST_QUOTE (0x8018)',
  ERR_TPM_SIGNATURE_MALFORMED: 'the TPMT_SIGNATURE is malformed or uses an unsupported scheme or hash',
  ERR_TPM_QUOTE_SIGNATURE: 'the TPM quote signature does not verify with the HCL attestation key',
  ERR_TPM_QUOTE_NONCE: 'the TPM quote extraData is not the expected nonce',
  ERR_TPM_PCR_SELECTION: 'the quote PCR selection is malformed or lacks a required PCR',
  ERR_TPM_PCR_MISSING: 'a PCR the quote selects has no supplied value',
  ERR_TPM_PCR_DIGEST: 'the quote PCR digest is not the hash of the supplied PCR values',
  ERR_TPM_ATTEST_MAGIC: 'the TPMS_ATTEST magic is not TPM_GENERATED_VALUE (0xff544347)',
  ERR_TPM_CERTIFY_TYPE: 'the TPMS_ATTEST type is not TPM_ST_ATTEST_CERTIFY (0x8017)',
  ERR_TPM_PUBLIC_MALFORMED: 'the TPM2B_PUBLIC is truncated, has trailing bytes or a malformed field',
  ERR_TPM_PUBLIC_UNSUPPORTED: 'the TPM2B_PUBLIC is not an RSA key (the only type the Azure vTPM keys have)',
  ERR_TPM_CERTIFY_SIGNATURE: 'the TPM2_Certify signature over the encryption key does not verify with the AK',
  ERR_TPM_CERTIFY_NAME: 'TPM2_Certify names another object than the encryption key sent',
  ERR_TPM_CERTIFY_BOOT: 'the quote and the key certification come from different TPM boots',
  ERR_ENC_KEY_ATTRIBUTES: 'the encryption key is not a TPM-bound, policy-only RSA decryption key',
  ERR_ENC_KEY_POLICY: "the encryption key's authPolicy is not PolicyPCR over the quoted PCR values",
  ERR_TCG_LOG_MALFORMED: 'the TCG event log is truncated, oversized or malformed',
  ERR_TCG_LOG_UNSUPPORTED: 'the TCG event log is not a crypto-agile (Spec ID Event03) log with a SHA-256 bank',
  ERR_TCG_LOG_REPLAY: 'the TCG event log does not replay to the quoted PCR values',
  ERR_TCG_LOG_EVENT: 'a TCG log event whose data is read (the SecureBoot variable) is not what its digest measured',
  ERR_AK_CERT: 'the AK certificate is not for the AK, not issued by a configured vTPM CA, or not valid now',
  ERR_AZURE_GUEST_MALFORMED: "AttestationInfo is not the request of Microsoft's guest attestation library",
  ERR_AZURE_GUEST_ISOLATION: 'IsolationInfo.Type is not SevSnp',
  ERR_AZURE_GUEST_AK: 'TpmInfo.AikPub is not the HCLAkPub of the SNP-bound runtime claims',
  ERR_INPUT: 'the input could not be read or has the wrong form',
} as const;

export type AttestationErrorCode = keyof typeof ATTESTATION_ERROR_CODES;

/** A failure with a stable code. `detail` is safe to log and show: it never holds key material. */
export class AttestationError extends Error {
  override readonly name = 'AttestationError';
  readonly code: AttestationErrorCode;

  constructor(code: AttestationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toJSON(): { code: AttestationErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isAttestationError(e: unknown): e is AttestationError {
  return e instanceof AttestationError;
}
