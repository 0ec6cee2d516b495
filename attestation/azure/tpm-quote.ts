import { type KeyObject, timingSafeEqual } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { type PcrValues, type SelectedPcr, pcrDigest, selectedPcrValues } from './tpm-pcrs.js';
import { type TpmSignature, decodeQuoteSignature, verifyTpmSignature } from './tpm-signature.js';
import { type TpmsAttestQuote, parseQuoteAttest } from './tpm-structures.js';

/** A TPM2_Quote as it travels: the TPMS_ATTEST bytes and their signature (TPMT_SIGNATURE or bare RSASSA). */
export interface TpmQuote {
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface QuoteCheckOptions {
  /** The attestation key, taken from verified runtime claims (HCLAkPub), never from the quote's sender. */
  readonly ak: KeyObject;
  /** What the verifier asked the TPM to put in extraData (qualifyingData). */
  readonly nonce: Uint8Array;
  readonly pcrs: PcrValues;
  /** PCR indices that must be among the quoted ones (in any bank). */
  readonly requiredPcrs?: readonly number[];
}

export interface TpmQuoteResult {
  readonly ok: boolean;
  readonly attest: TpmsAttestQuote | null;
  readonly signature: TpmSignature | null;
  /** The PCR values the quote attests, in selection order; trust them only when `ok`. */
  readonly pcrs: readonly SelectedPcr[];
  readonly errors: readonly AttestationError[];
}

/**
 * Verifies a TPM 2.0 quote, returning every failed check (never throws for bad evidence):
 *  1. parse TPMS_ATTEST (magic, TPM_ST_ATTEST_QUOTE, TPMS_QUOTE_INFO) and the signature;
 *  2. the signature verifies with the AK over the exact TPMS_ATTEST bytes;
 *  3. extraData equals the expected nonce (constant time);
 *  4. pcrDigest equals the scheme hash over the supplied values of the selected PCRs, in selection order;
 *  5. every required PCR is selected.
 * This is the check trustee's az-snp-vtpm verifier makes (snp-evidence.md §12).
 */
export function verifyTpmQuote(quote: TpmQuote, options: QuoteCheckOptions): TpmQuoteResult {
  let attest: TpmsAttestQuote;
  let signature: TpmSignature;
  try {
    attest = parseQuoteAttest(quote.message);
    signature = decodeQuoteSignature(quote.signature, options.ak);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    return { ok: false, attest: null, signature: null, pcrs: [], errors: [e] };
  }
  const errors: AttestationError[] = [];
  if (!verifyTpmSignature(attest.raw, signature, options.ak)) {
    errors.push(new AttestationError('ERR_TPM_QUOTE_SIGNATURE', `the ${signature.scheme.toUpperCase()}/${signature.hash} quote signature does not verify with HCLAkPub: another key signed it, or the quote was altered`));
  }
  if (!equalBytes(attest.extraData, options.nonce)) {
    errors.push(new AttestationError('ERR_TPM_QUOTE_NONCE', `the quote's extraData (${attest.extraData.length} bytes) is not the expected ${options.nonce.length}-byte nonce: the quote is stale or was made for another challenge`));
  }
  const pcrs = checkPcrs(attest, signature, options, errors);
  return { ok: errors.length === 0, attest, signature, pcrs, errors };
}

function checkPcrs(attest: TpmsAttestQuote, signature: TpmSignature, options: QuoteCheckOptions, errors: AttestationError[]): SelectedPcr[] {
  const selected = new Set(attest.pcrSelection.flatMap((s) => s.pcrs));
  const missing = (options.requiredPcrs ?? []).filter((i) => !selected.has(i));
  if (missing.length > 0) errors.push(new AttestationError('ERR_TPM_PCR_SELECTION', `the quote does not cover required PCR(s) ${missing.join(', ')}`));
  let values: SelectedPcr[];
  try {
    values = selectedPcrValues(attest.pcrSelection, options.pcrs);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    errors.push(e);
    return [];
  }
  if (!equalBytes(pcrDigest(signature.hash, values), attest.pcrDigest)) {
    const list = attest.pcrSelection.map((s) => `${s.hash}:${s.pcrs.join(',')}`).join(' ');
    errors.push(new AttestationError('ERR_TPM_PCR_DIGEST', `the quote's PCR digest is not the ${signature.hash} of the supplied values of ${list || 'no PCRs'}: a PCR value differs from what the TPM measured`));
  }
  return values;
}

/** Lengths are public; contents are compared in constant time. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
