import { createHash } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { DIGEST_LENGTH, TPM_HASHES, type TpmHashName } from './tpm-constants.js';
import type { TpmsPcrSelection } from './tpm-structures.js';

/** PCR values per bank, by index. */
export type PcrValues = Readonly<Partial<Record<TpmHashName, ReadonlyMap<number, Uint8Array>>>>;

/** One PCR a quote covers, in the order the TPM hashed it. */
export interface SelectedPcr {
  readonly hash: TpmHashName;
  readonly index: number;
  readonly value: Buffer;
}

const MAX_PCR_INDEX = 255;

function inputError(message: string): never {
  throw new AttestationError('ERR_INPUT', `PCR values: ${message}`);
}

/**
 * Reads PCR values in the forms people have them: `{"0": "<hex>", ...}` (the bank follows from the digest
 * length: 20 SHA-1, 32 SHA-256, 48 SHA-384, 64 SHA-512), `{"sha256": {"0": "<hex>"}}`, or an array of hex
 * values by index (trustee's and az-cvm-vtpm's `pcrs`, which are SHA-256). Throws ERR_INPUT.
 */
export function parsePcrValues(json: unknown): PcrValues {
  if (Array.isArray(json)) return { sha256: bankFromEntries(json.map((v, i) => [String(i), v]), 'sha256') };
  if (typeof json !== 'object' || json === null) return inputError('expected a JSON object {index: hex} or an array of hex values');
  const entries = Object.entries(json);
  if (entries.length > 0 && entries.every(([k]) => (TPM_HASHES as readonly string[]).includes(k))) {
    const out: Partial<Record<TpmHashName, Map<number, Uint8Array>>> = {};
    for (const [bank, values] of entries) {
      if (typeof values !== 'object' || values === null || Array.isArray(values)) inputError(`bank "${bank}" must map indices to hex`);
      out[bank as TpmHashName] = bankFromEntries(Object.entries(values), bank as TpmHashName);
    }
    return out;
  }
  const first = entries[0]?.[1];
  const hash = TPM_HASHES.find((h) => typeof first === 'string' && first.length === 2 * DIGEST_LENGTH[h]);
  if (!hash) return inputError('cannot tell the bank: values must be 20, 32, 48 or 64 bytes of hex');
  return { [hash]: bankFromEntries(entries, hash) };
}

function bankFromEntries(entries: ReadonlyArray<readonly [string, unknown]>, hash: TpmHashName): Map<number, Uint8Array> {
  const bank = new Map<number, Uint8Array>();
  for (const [key, value] of entries) {
    const index = Number(key);
    if (!/^\d+$/.test(key) || index > MAX_PCR_INDEX) inputError(`"${key}" is not a PCR index 0..${MAX_PCR_INDEX}`);
    if (typeof value !== 'string' || value.length !== 2 * DIGEST_LENGTH[hash] || !/^[0-9a-fA-F]*$/.test(value)) {
      inputError(`PCR ${key} must be ${DIGEST_LENGTH[hash]} bytes of hex (${hash} bank)`);
    }
    bank.set(index, Buffer.from(value, 'hex'));
  }
  return bank;
}

/**
 * The supplied values of every PCR the quote selects, in selection order (banks as listed, indices
 * ascending), which is the order TPM2_Quote hashes them. Throws ERR_TPM_PCR_MISSING or ERR_INPUT.
 */
export function selectedPcrValues(selection: readonly TpmsPcrSelection[], values: PcrValues): SelectedPcr[] {
  const out: SelectedPcr[] = [];
  for (const { hash, pcrs } of selection) {
    for (const index of pcrs) {
      const value = values[hash]?.get(index);
      if (!value) throw new AttestationError('ERR_TPM_PCR_MISSING', `the quote covers ${hash} PCR ${index} but no value was supplied for it`);
      if (value.length !== DIGEST_LENGTH[hash]) inputError(`${hash} PCR ${index} is ${value.length} bytes; the bank's digests are ${DIGEST_LENGTH[hash]}`);
      out.push({ hash, index, value: Buffer.from(value) });
    }
  }
  return out;
}

/** TPMS_QUOTE_INFO.pcrDigest: the signing scheme's hash over the concatenated selected PCR values (Part 3 TPM2_Quote). */
export function pcrDigest(hash: TpmHashName, selected: readonly SelectedPcr[]): Buffer {
  const h = createHash(hash);
  for (const pcr of selected) h.update(pcr.value);
  return h.digest();
}
