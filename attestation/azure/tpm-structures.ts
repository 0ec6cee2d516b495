import { AttestationError, type AttestationErrorCode } from '../errors.js';
import { TPMT_HA_SIZE, TPMU_HA_SIZE, TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE, type TpmHashName, hashFromAlg } from './tpm-constants.js';
import { TpmReader } from './tpm-reader.js';

/** TPMS_CLOCK_INFO (Part 2): clock in ms, reset/restart counters, and whether the clock is "safe". */
export interface TpmsClockInfo {
  readonly clock: bigint;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: boolean;
}

/** One TPMS_PCR_SELECTION: a bank and the PCR indices its bitmap selects, ascending. */
export interface TpmsPcrSelection {
  readonly hash: TpmHashName;
  readonly sizeofSelect: number;
  readonly pcrs: readonly number[];
}

/** The fields every TPMS_ATTEST carries before its type-specific `attested` union (Part 2 "TPMS_ATTEST"). */
export interface TpmsAttestHeader {
  /** TPM2B_NAME of the signing key (nameAlg || H(TPMT_PUBLIC)); kept for audit, not checked. */
  readonly qualifiedSigner: Buffer;
  /** TPM2B_DATA: the caller's qualifyingData, i.e. the verifier's nonce. */
  readonly extraData: Buffer;
  readonly clockInfo: TpmsClockInfo;
  readonly firmwareVersion: bigint;
}

/** The TPM_ST value a caller expects and the codes it reports a wrong magic or type with. */
export interface AttestKind {
  readonly type: number;
  readonly typeName: string;
  readonly magicCode: AttestationErrorCode;
  readonly typeCode: AttestationErrorCode;
}

/** A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE with its TPMS_QUOTE_INFO, and the exact bytes the AK signed. */
export interface TpmsAttestQuote extends TpmsAttestHeader {
  readonly raw: Buffer;
  readonly pcrSelection: readonly TpmsPcrSelection[];
  readonly pcrDigest: Buffer;
}

/** More banks than TPM_ALG_ID has hashes, or more than 256 PCRs, is not a TPM's selection. */
const MAX_BANKS = 8;
const MAX_SIZEOF_SELECT = 32;

const QUOTE: AttestKind = { type: TPM_ST_ATTEST_QUOTE, typeName: 'TPM_ST_ATTEST_QUOTE', magicCode: 'ERR_TPM_QUOTE_MAGIC', typeCode: 'ERR_TPM_QUOTE_TYPE' };

/**
 * Parses a quote's TPMS_ATTEST (Part 2 "TPMS_ATTEST", "TPMS_QUOTE_INFO", "TPML_PCR_SELECTION"):
 * magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion, then pcrSelect and pcrDigest, all
 * big-endian. Throws ERR_TPM_QUOTE_MAGIC, ERR_TPM_QUOTE_TYPE, ERR_TPM_PCR_SELECTION or ERR_TPM_ATTEST_MALFORMED.
 */
export function parseQuoteAttest(input: Uint8Array): TpmsAttestQuote {
  const raw = Buffer.from(input);
  const r: TpmReader = new TpmReader(raw, 'ERR_TPM_ATTEST_MALFORMED', 'TPMS_ATTEST');
  const header = readAttestHeader(r, QUOTE);
  const pcrSelection = readPcrSelection(r);
  const pcrDigest = r.tpm2b('pcrDigest', TPMU_HA_SIZE);
  r.end();
  return { raw, ...header, pcrSelection, pcrDigest };
}

/**
 * Reads magic, type, qualifiedSigner, extraData, clockInfo and firmwareVersion, leaving `r` at the
 * `attested` union. The magic is checked first: without it the TPM did not sign this as its own attestation.
 */
export function readAttestHeader(r: TpmReader, kind: AttestKind): TpmsAttestHeader {
  const magic = r.u32('magic');
  if (magic !== TPM_GENERATED_VALUE) {
    throw new AttestationError(kind.magicCode, `TPMS_ATTEST magic is 0x${hex32(magic)}, not TPM_GENERATED_VALUE 0xff544347: the TPM did not produce this structure`);
  }
  const type = r.u16('type');
  if (type !== kind.type) {
    throw new AttestationError(kind.typeCode, `TPMS_ATTEST type is 0x${hex16(type)}, not ${kind.typeName} 0x${hex16(kind.type)}`);
  }
  const qualifiedSigner = r.tpm2b('qualifiedSigner', TPMT_HA_SIZE);
  const extraData = r.tpm2b('extraData', TPMT_HA_SIZE);
  const clockInfo = readClockInfo(r);
  const firmwareVersion = r.u64('firmwareVersion');
  return { qualifiedSigner, extraData, clockInfo, firmwareVersion };
}

function readClockInfo(r: TpmReader): TpmsClockInfo {
  const clock = r.u64('clockInfo.clock');
  const resetCount = r.u32('clockInfo.resetCount');
  const restartCount = r.u32('clockInfo.restartCount');
  const safe = r.u8('clockInfo.safe');
  if (safe > 1) r.fail(`clockInfo.safe is ${safe}; TPMI_YES_NO is 0 or 1`);
  return { clock, resetCount, restartCount, safe: safe === 1 };
}

function readPcrSelection(r: TpmReader): TpmsPcrSelection[] {
  const count = r.u32('pcrSelect.count');
  if (count > MAX_BANKS) selectionError(`TPML_PCR_SELECTION.count is ${count}; at most ${MAX_BANKS} banks exist`);
  const out: TpmsPcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const alg = r.u16(`pcrSelect[${i}].hash`);
    const hash = hashFromAlg(alg);
    if (!hash) selectionError(`pcrSelect[${i}] names hash algorithm 0x${alg.toString(16).padStart(4, '0')}, not SHA-1/256/384/512`);
    if (out.some((s) => s.hash === hash)) selectionError(`the ${hash} bank is selected twice`);
    const sizeofSelect = r.u8(`pcrSelect[${i}].sizeofSelect`);
    if (sizeofSelect > MAX_SIZEOF_SELECT) selectionError(`pcrSelect[${i}].sizeofSelect is ${sizeofSelect}; at most ${MAX_SIZEOF_SELECT}`);
    out.push({ hash, sizeofSelect, pcrs: bitmapToIndices(r.bytes(sizeofSelect, `pcrSelect[${i}].pcrSelect`)) });
  }
  return out;
}

/** pcrSelect[i] bit j selects PCR 8i + j (Part 2 "TPMS_PCR_SELECT"); the TPM hashes them in this order. */
export function bitmapToIndices(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  bitmap.forEach((byte, i) => {
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(i * 8 + bit);
  });
  return out;
}

function selectionError(message: string): never {
  throw new AttestationError('ERR_TPM_PCR_SELECTION', message);
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}
