import { type KeyObject, timingSafeEqual } from 'node:crypto';
import { AttestationError } from '../errors.js';
import type { AzureGuestRequest } from './guest-request.js';
import { policyPcrDigest } from './policy-pcr.js';
import { type TpmsAttestCertify, parseCertifyAttest } from './tpm-certify.js';
import { type TpmPublic, parseTpm2bPublic } from './tpm-public.js';
import { type TpmQuoteResult, verifyTpmQuote } from './tpm-quote.js';
import { decodeQuoteSignature, verifyTpmSignature } from './tpm-signature.js';
import { type TpmsClockInfo, parseQuoteAttest } from './tpm-structures.js';
import { collect } from './collect.js';

/** The PCRs Microsoft's Linux guest library quotes and binds its ephemeral key to (GetAttestationPcrList). */
export const AZURE_GUEST_PCRS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];

export interface GuestTpmResult {
  readonly quote: TpmQuoteResult | null;
  /** The ephemeral key, once certified by the AK and bound to the quoted PCRs; null otherwise. */
  readonly encryptionKey: TpmPublic | null;
  readonly errors: readonly AttestationError[];
}

/**
 * The TPM half of AzureGuest evidence, with the AK already trusted (HCLAkPub of SNP-bound runtime claims):
 *  1. TpmInfo.AikPub is that AK (MAA's request carries it separately: it must not be another key);
 *  2. the quote verifies with it over the supplied SHA-256 PCRs and covers `requiredPcrs` (its extraData is
 *     whatever the guest chose: the protocol has no verifier nonce; freshness comes from the answer being
 *     encrypted to a key only this TPM can use, in this PCR state);
 *  3. TPM2_Certify by the AK names exactly EncKeyPub;
 *  4. EncKeyPub is a TPM-resident decryption key (fixedTPM, fixedParent, sensitiveDataOrigin, decrypt, not
 *     restricted, not sign) usable only through its policy (no userWithAuth), and that policy is PolicyPCR over
 *     the quoted PCR values: what is sent to it can be opened only in the attested state.
 */
export function verifyGuestTpm(tpm: AzureGuestRequest['tpm'], ak: KeyObject, requiredPcrs: readonly number[] = AZURE_GUEST_PCRS): GuestTpmResult {
  const errors: AttestationError[] = [];
  checkAikPub(tpm.akPub, ak, errors);
  const quote = checkQuote(tpm, ak, requiredPcrs, errors);
  const certified = certifiedKey(tpm, ak, errors);
  const key = certified?.key ?? null;
  if (key && quote?.ok) checkKeyPolicy(key, quote, errors);
  if (certified && quote?.attest) checkSameBoot(quote.attest.clockInfo, certified.certify.clockInfo, errors);
  return { quote, encryptionKey: errors.length === 0 ? key : null, errors };
}

function checkAikPub(akPub: Buffer, ak: KeyObject, errors: AttestationError[]): void {
  const pub = collect(errors, () => parseTpm2bPublic(akPub));
  if (pub && !sameRsa(pub.key, ak)) errors.push(new AttestationError('ERR_AZURE_GUEST_AK', 'TpmInfo.AikPub is not HCLAkPub, the AK the SNP-bound runtime claims name'));
}

function checkQuote(tpm: AzureGuestRequest['tpm'], ak: KeyObject, requiredPcrs: readonly number[], errors: AttestationError[]): TpmQuoteResult | null {
  const attest = collect(errors, () => parseQuoteAttest(tpm.pcrQuote));
  if (!attest) return null;
  const listed = [...tpm.pcrs.keys()].sort((a, b) => a - b);
  const set = [...new Set(tpm.pcrSet)].sort((a, b) => a - b);
  if (listed.join(',') !== set.join(',') || set.length !== tpm.pcrSet.length) {
    errors.push(new AttestationError('ERR_TPM_PCR_SELECTION', `TpmInfo.PcrSet [${tpm.pcrSet.join(',')}] does not list exactly the PCRs whose values are supplied [${listed.join(',')}]`));
  }
  const result = verifyTpmQuote({ message: tpm.pcrQuote, signature: tpm.pcrSignature }, { ak, nonce: attest.extraData, pcrs: { sha256: tpm.pcrs }, requiredPcrs });
  errors.push(...result.errors);
  return result;
}

/** EncKeyPub and its certification (the reasons in `errors` when TPM2_Certify by the AK does not name it); null when either does not parse. */
function certifiedKey(tpm: AzureGuestRequest['tpm'], ak: KeyObject, errors: AttestationError[]): { key: TpmPublic; certify: TpmsAttestCertify } | null {
  const key = collect(errors, () => parseTpm2bPublic(tpm.encKeyPub));
  const certify = collect(errors, () => parseCertifyAttest(tpm.encKeyCertifyInfo));
  if (!key || !certify) return null;
  const signature = collect(errors, () => decodeQuoteSignature(tpm.encKeyCertifyInfoSignature, ak));
  if (signature && !verifyTpmSignature(certify.raw, signature, ak)) {
    errors.push(new AttestationError('ERR_TPM_CERTIFY_SIGNATURE', 'the TPM2_Certify signature over the encryption key does not verify with the AK: another key signed it, or it was altered'));
  }
  if (!equal(certify.name, key.name)) {
    errors.push(new AttestationError('ERR_TPM_CERTIFY_NAME', 'TPM2_Certify names another object than EncKeyPub: the encryption key was swapped after it was certified'));
  }
  checkAttributes(key, errors);
  return { key, certify };
}

/**
 * The quote and the certification must come from the same TPM boot: equal reset and restart counts (for an AK
 * outside the endorsement hierarchy the TPM obfuscates both, with the same value for the same key, so equality
 * still holds). Evidence spliced from two boots would otherwise pass.
 */
function checkSameBoot(quote: TpmsClockInfo, certify: TpmsClockInfo, errors: AttestationError[]): void {
  if (certify.resetCount !== quote.resetCount || certify.restartCount !== quote.restartCount) {
    errors.push(new AttestationError('ERR_TPM_CERTIFY_BOOT', 'the quote and the certification of the encryption key come from different TPM boots (reset or restart counts differ)'));
  }
}

function checkAttributes(key: TpmPublic, errors: AttestationError[]): void {
  const a = key.attributes;
  const wrong = [
    !a.fixedTPM && 'fixedTPM is clear (the key may leave the TPM)',
    !a.fixedParent && 'fixedParent is clear',
    !a.sensitiveDataOrigin && 'sensitiveDataOrigin is clear (the private key came from outside the TPM)',
    !a.decrypt && 'decrypt is clear',
    a.sign && 'sign is set',
    a.restricted && 'restricted is set',
    a.userWithAuth && 'userWithAuth is set (the key can be used with its password, without the PCR policy)',
    key.rsa.keyBits < 2048 && `the key is RSA-${key.rsa.keyBits}, under 2048 bits`,
  ].filter((w): w is string => typeof w === 'string');
  if (wrong.length > 0) errors.push(new AttestationError('ERR_ENC_KEY_ATTRIBUTES', `EncKeyPub is not a TPM-bound, policy-only decryption key: ${wrong.join('; ')}`));
}

function checkKeyPolicy(key: TpmPublic, quote: TpmQuoteResult, errors: AttestationError[]): void {
  const sha256 = quote.pcrs.filter((p) => p.hash === 'sha256').sort((x, y) => x.index - y.index);
  const expected = policyPcrDigest(key.nameAlg, { hash: 'sha256', pcrs: sha256.map((p) => p.index) }, sha256.map((p) => p.value));
  if (!equal(expected, key.authPolicy)) {
    errors.push(new AttestationError('ERR_ENC_KEY_POLICY', "EncKeyPub's authPolicy is not PolicyPCR over the quoted SHA-256 PCRs: the TPM would let the key decrypt in another state"));
  }
}

function sameRsa(a: KeyObject, b: KeyObject): boolean {
  const x = a.export({ format: 'jwk' });
  const y = b.export({ format: 'jwk' });
  return x.kty === 'RSA' && y.kty === 'RSA' && x.n === y.n && x.e === y.e;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
