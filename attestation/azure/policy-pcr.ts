import { createHash } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { DIGEST_LENGTH, TPM_ALG, type TpmHashName } from './tpm-constants.js';

/** One bank of a TPML_PCR_SELECTION as a caller states it. */
export interface PcrSelectionInput {
  readonly hash: TpmHashName;
  readonly pcrs: readonly number[];
  /** Bytes of bitmap; default PCR_SELECT_MIN (3), or more when a PCR above 23 is selected. */
  readonly sizeofSelect?: number;
}

/** Part 2 "TPM_CC": the command code TPM2_PolicyPCR folds into the policy digest. */
const TPM_CC_POLICY_PCR = 0x0000017f;
/** PCR_SELECT_MIN of the PC Client platform: tpm2-tools and TPMs write at least three bytes of bitmap. */
const PCR_SELECT_MIN = 3;
const PCR_SELECT_MAX = 32;

function inputError(message: string): never {
  throw new AttestationError('ERR_INPUT', `PCR policy: ${message}`);
}

/**
 * The policyDigest of a trial session after a single TPM2_PolicyPCR (Part 3 "TPM2_PolicyPCR"), i.e. the
 * authPolicy of an object sealed to these PCR values (tpm2_createpolicy --policy-pcr):
 * H(0...0 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || H(PCR values in ascending index order)), every H being
 * the session's `policyHash`. `pcrValues[i]` is the value of `selection.pcrs[i]`. Throws ERR_INPUT.
 */
export function policyPcrDigest(policyHash: TpmHashName, selection: PcrSelectionInput, pcrValues: readonly Uint8Array[]): Buffer {
  const ordered = orderedValues(selection, pcrValues);
  const pcrDigest = createHash(policyHash);
  for (const value of ordered) pcrDigest.update(value);
  const cc = Buffer.alloc(4);
  cc.writeUInt32BE(TPM_CC_POLICY_PCR);
  return createHash(policyHash)
    .update(Buffer.alloc(DIGEST_LENGTH[policyHash]))
    .update(cc)
    .update(marshalPcrSelection([selection]))
    .update(pcrDigest.digest())
    .digest();
}

/** TPML_PCR_SELECTION (Part 2): u32 count, then per bank u16 hash, u8 sizeofSelect and the bitmap. Throws ERR_INPUT. */
export function marshalPcrSelection(selections: readonly PcrSelectionInput[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(selections.length);
  return Buffer.concat([count, ...selections.map(marshalOne)]);
}

function marshalOne({ hash, pcrs, sizeofSelect }: PcrSelectionInput): Buffer {
  for (const i of pcrs) if (!Number.isInteger(i) || i < 0 || i >= 8 * PCR_SELECT_MAX) inputError(`${i} is not a PCR index 0..${8 * PCR_SELECT_MAX - 1}`);
  const size = sizeofSelect ?? Math.max(PCR_SELECT_MIN, Math.floor(Math.max(-1, ...pcrs) / 8) + 1);
  if (!Number.isInteger(size) || size < 1 || size > PCR_SELECT_MAX) inputError(`sizeofSelect ${size} is not 1..${PCR_SELECT_MAX}`);
  const out = Buffer.alloc(3 + size);
  out.writeUInt16BE(TPM_ALG[hash], 0);
  out.writeUInt8(size, 2);
  for (const i of pcrs) {
    if (i >= 8 * size) inputError(`PCR ${i} does not fit a ${size}-byte selection bitmap`);
    out[3 + (i >> 3)]! |= 1 << (i & 7);
  }
  return out;
}

/** The TPM hashes selected PCRs by ascending index, whatever order the caller listed them in. */
function orderedValues({ hash, pcrs }: PcrSelectionInput, values: readonly Uint8Array[]): Uint8Array[] {
  if (values.length !== pcrs.length) inputError(`${pcrs.length} PCRs are selected but ${values.length} values were given`);
  if (new Set(pcrs).size !== pcrs.length) inputError('a PCR is selected twice');
  const pairs = pcrs.map((index, i) => ({ index, value: values[i]! }));
  for (const { index, value } of pairs) {
    if (value.length !== DIGEST_LENGTH[hash]) inputError(`${hash} PCR ${index} is ${value.length} bytes; the bank's digests are ${DIGEST_LENGTH[hash]}`);
  }
  return pairs.sort((a, b) => a.index - b.index).map((p) => p.value);
}
