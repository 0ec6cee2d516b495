import { timingSafeEqual } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { type SnpVerdict, type VerifyOptions, verifySnpReport } from '../snp/verify.js';
import type { VerifyWarning } from '../snp/warnings.js';
import { runtimeClaimsBound } from './binding.js';
import { type AzureCvmClaims, buildAzureCvmClaims } from './claims.js';
import { type HclReport, parseHclReport } from './hcl.js';
import { type RuntimeClaims, parseRuntimeClaims, readRuntimeClaimsJson } from './runtime-claims.js';
import { rsaJwkThumbprint } from './tpm-keys.js';
import type { PcrValues } from './tpm-pcrs.js';
import { type TpmQuote, type TpmQuoteResult, verifyTpmQuote } from './tpm-quote.js';
import { collect } from './collect.js';

/** A TPM quote with what the verifier expects of it. */
export interface QuoteEvidence {
  readonly quote: TpmQuote;
  /** The challenge the verifier issued: the quote's extraData must equal it. */
  readonly nonce: Uint8Array;
  readonly pcrs: PcrValues;
  readonly requiredPcrs?: readonly number[];
}

export interface HclVerifyOptions extends VerifyOptions {
  readonly tpm?: QuoteEvidence;
  /** Fail with ERR_TPM_QUOTE_MISSING without a quote: a key-release service needs the freshness it gives. */
  readonly requireQuote?: boolean;
  /** The runtime claims' user-data (NV index 0x01400002) must start with these bytes (trustee's evidence v2 check). */
  readonly expectedUserData?: Uint8Array;
  /** The guest's own runtime data, reported as top-level `x-ms-runtime`; the caller must have bound it (e.g. in the nonce). */
  readonly runtimeData?: unknown;
}

export interface HclVerdict {
  readonly ok: boolean;
  readonly hcl: HclReport | null;
  /** The embedded SNP report's own verdict (its claims are there even when the HCL checks fail). */
  readonly snp: SnpVerdict | null;
  /** The runtime-claims JSON when it parses, for display: trust it only when `runtimeClaimsBound`. */
  readonly runtimeClaimsJson: Readonly<Record<string, unknown>> | null;
  readonly runtimeClaims: RuntimeClaims | null;
  readonly runtimeClaimsBound: boolean;
  readonly quote: TpmQuoteResult | null;
  /** Present only when `ok`. */
  readonly claims: AzureCvmClaims | null;
  readonly warnings: readonly VerifyWarning[];
  readonly errors: readonly AttestationError[];
}

/**
 * Verifies Azure confidential-VM evidence and returns every failed check (never throws for bad evidence):
 *  1. parse the HCL report (header, SNP report at 0x20, IGVM request data, runtime claims);
 *  2. verify the embedded SNP report with verifySnpReport (signature, AMD chain, TCB, chip binding);
 *  3. the SNP report was requested at VMPL 0, as the paravisor does (snp-evidence.md §10);
 *  4. REPORT_DATA = H(runtime claims bytes as embedded) followed by zeros;
 *  5. extract HCLAkPub (RSA, key_ops sign) and HCLEkPub, vm-configuration, user-data; check user-data if asked;
 *  6. verify the TPM quote with that AK: signature, extraData == nonce, PCR digest == H(supplied PCRs);
 *  7. build MAA-shaped claims (x-ms-isolation-tee ...).
 * The AK is trusted only through steps 2 and 4; a quote without them proves nothing, and `ok` needs all.
 */
export function verifyHclEvidence(input: Uint8Array, options: HclVerifyOptions = {}): HclVerdict {
  let hcl: HclReport;
  try {
    hcl = parseHclReport(input);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    return { ok: false, hcl: null, snp: null, runtimeClaimsJson: null, runtimeClaims: null, runtimeClaimsBound: false, quote: null, claims: null, warnings: [], errors: [e] };
  }
  const snp = verifySnpReport(hcl.snpReport, options);
  const errors: AttestationError[] = [...snp.errors];
  if (snp.report && snp.report.vmpl !== 0) {
    errors.push(new AttestationError('ERR_HCL_VMPL', `the SNP report was requested at VMPL ${snp.report.vmpl}; the Azure paravisor requests it at VMPL 0`));
  }
  const bound = runtimeClaimsBound(hcl);
  if (!bound) {
    errors.push(new AttestationError('ERR_HCL_CLAIMS_NOT_BOUND', `REPORT_DATA is not ${hcl.hashType.toUpperCase()}(runtime claims) followed by zeros: the runtime claims (and the keys in them) were changed or swapped`));
  }
  const runtime = collect(errors, () => parseRuntimeClaims(hcl.runtimeClaims));
  if (runtime && options.expectedUserData) checkUserData(runtime, options.expectedUserData, errors);
  const quote = runtime ? checkQuote(runtime, options, errors) : null;
  const ok = errors.length === 0 && snp.ok && bound && runtime !== null;
  return {
    ok,
    hcl,
    snp,
    runtimeClaimsJson: tryJson(hcl),
    runtimeClaims: runtime,
    runtimeClaimsBound: bound,
    quote,
    claims: ok && snp.claims && runtime ? claimsFor(hcl, snp, runtime, quote, options) : null,
    warnings: [...snp.warnings, ...hclWarnings(options)],
    errors,
  };
}

function checkQuote(runtime: RuntimeClaims, options: HclVerifyOptions, errors: AttestationError[]): TpmQuoteResult | null {
  if (!options.tpm) {
    if (options.requireQuote) errors.push(new AttestationError('ERR_TPM_QUOTE_MISSING', 'a TPM quote over the verifier nonce is required: on Azure REPORT_DATA carries no nonce, so the HCL report alone is not fresh'));
    return null;
  }
  const { quote, nonce, pcrs, requiredPcrs } = options.tpm;
  const result = verifyTpmQuote(quote, { ak: runtime.ak.key, nonce, pcrs, ...(requiredPcrs ? { requiredPcrs } : {}) });
  errors.push(...result.errors);
  return result;
}

function checkUserData(runtime: RuntimeClaims, expected: Uint8Array, errors: AttestationError[]): void {
  const actual = runtime.userData;
  const prefix = actual && actual.length >= expected.length ? actual.subarray(0, expected.length) : null;
  if (!prefix || !timingSafeEqual(prefix, expected)) {
    errors.push(new AttestationError('ERR_HCL_USER_DATA', `the runtime claims user-data does not start with the expected ${expected.length} bytes`));
  }
}

function claimsFor(hcl: HclReport, snp: SnpVerdict, runtime: RuntimeClaims, quote: TpmQuoteResult | null, options: HclVerifyOptions): AzureCvmClaims {
  return buildAzureCvmClaims({
    snp: snp.claims!,
    runtime,
    hclVersion: hcl.version,
    akThumbprint: rsaJwkThumbprint(runtime.ak.key),
    ...(quote?.ok && options.tpm ? { quote: { nonce: options.tpm.nonce, pcrs: quote.pcrs } } : {}),
    ...(options.runtimeData !== undefined ? { runtimeData: options.runtimeData } : {}),
  });
}

function hclWarnings(options: HclVerifyOptions): VerifyWarning[] {
  if (options.tpm || options.expectedUserData) return [];
  return [{ code: 'WARN_HCL_NOT_FRESH', message: 'no TPM quote or expected user-data was checked: the HCL report shows what the VM is, not that it answered now' }];
}


function tryJson(hcl: HclReport): Record<string, unknown> | null {
  try {
    return readRuntimeClaimsJson(hcl.runtimeClaims);
  } catch {
    return null;
  }
}
