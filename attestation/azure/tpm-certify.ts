import { TPMT_HA_SIZE, TPM_ST_ATTEST_CERTIFY } from './tpm-constants.js';
import { TpmReader } from './tpm-reader.js';
import { type AttestKind, type TpmsAttestHeader, readAttestHeader } from './tpm-structures.js';

/** A TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY with its TPMS_CERTIFY_INFO, and the exact bytes the signer signed. */
export interface TpmsAttestCertify extends TpmsAttestHeader {
  readonly raw: Buffer;
  /** TPM2B_NAME of the certified object: nameAlg || H(TPMT_PUBLIC), compare with tpmObjectName(). */
  readonly name: Buffer;
  /** TPM2B_NAME: the certified object's qualified name, which also binds its parents up to the hierarchy. */
  readonly qualifiedName: Buffer;
}

// A certification is not a quote: its failures get codes of their own so callers never mistake one for the other.
const CERTIFY: AttestKind = { type: TPM_ST_ATTEST_CERTIFY, typeName: 'TPM_ST_ATTEST_CERTIFY', magicCode: 'ERR_TPM_ATTEST_MAGIC', typeCode: 'ERR_TPM_CERTIFY_TYPE' };

/**
 * Parses the TPMS_ATTEST that TPM2_Certify signs (tpm2_certify -o): the common header, then
 * TPMS_CERTIFY_INFO {name, qualifiedName} (Part 2 "TPMS_CERTIFY_INFO"). Parsing proves nothing by itself:
 * the caller verifies the signature over `raw` and compares `name` with the key it expects.
 * Throws ERR_TPM_ATTEST_MAGIC, ERR_TPM_CERTIFY_TYPE or ERR_TPM_ATTEST_MALFORMED.
 */
export function parseCertifyAttest(input: Uint8Array): TpmsAttestCertify {
  const raw = Buffer.from(input);
  const r: TpmReader = new TpmReader(raw, 'ERR_TPM_ATTEST_MALFORMED', 'TPMS_ATTEST');
  const header = readAttestHeader(r, CERTIFY);
  const name = r.tpm2b('certifyInfo.name', TPMT_HA_SIZE);
  const qualifiedName = r.tpm2b('certifyInfo.qualifiedName', TPMT_HA_SIZE);
  r.end();
  return { raw, ...header, name, qualifiedName };
}
