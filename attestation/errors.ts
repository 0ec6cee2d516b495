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
