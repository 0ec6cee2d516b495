import type { KeyObject } from 'node:crypto';
import { type HclReport, parseHclReport, parseRuntimeClaims, runtimeClaimsBound, verifyTpmQuote } from '../../attestation/azure/index.js';
import { parseReport } from '../../attestation/snp/report.js';
import { RunnerError } from '../errors.js';
import { AZURE_AK_HANDLE, type PcrSelection, type TpmDevice, type TpmQuoteOutput } from './tpm-device.js';

/**
 * What both Azure vTPM flows (the KRS's AzureCvm, MAA's AzureGuest) read and check on this side before sending:
 * the service verifies all of it again; this side only fails early with a clearer reason.
 */

/** The HCL report, parsed; its claims must be bound by REPORT_DATA and name an AK, or nothing can verify it. */
export function readHcl(bytes: Buffer): { hcl: HclReport; ak: KeyObject } {
  try {
    const hcl = parseHclReport(bytes);
    parseReport(hcl.snpReport);
    if (!runtimeClaimsBound(hcl)) throw new RunnerError('ERR_RUNNER_EVIDENCE', "the HCL report in NV 0x01400001 does not bind its runtime claims (REPORT_DATA is not their hash): the paravisor's report is corrupt");
    return { hcl, ak: parseRuntimeClaims(hcl.runtimeClaims).ak.key };
  } catch (e) {
    if (e instanceof RunnerError) throw e;
    const code = (e as { code?: unknown }).code;
    throw new RunnerError('ERR_RUNNER_EVIDENCE', `NV index 0x01400001 does not hold a usable HCL report: ${(e as Error).message.slice(0, 300)}`, {
      cause: e,
      ...(typeof code === 'string' ? { reason: { code, message: (e as Error).message.slice(0, 300) } } : {}),
    });
  }
}

/** TPM2_Quote by the AK that verifies with it; a PCR extended between the quote and its read-back gets one retry. */
export async function verifiedQuote(device: TpmDevice, ak: KeyObject, nonce: Buffer, selection: PcrSelection): Promise<TpmQuoteOutput> {
  for (let attempt = 1; ; attempt++) {
    const quote = await device.quote(AZURE_AK_HANDLE, nonce, selection);
    const result = verifyTpmQuote(quote, { ak, nonce, pcrs: { sha256: quote.pcrs } });
    if (result.ok) return quote;
    const codes = result.errors.map((e) => e.code);
    if (attempt === 1 && codes.every((c) => c === 'ERR_TPM_PCR_DIGEST')) continue;
    const why = result.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    throw new RunnerError('ERR_RUNNER_EVIDENCE', `the vTPM's quote (AK at 0x81000003) does not verify with the HCLAkPub of its own HCL report: ${why.slice(0, 600)}`, {
      reason: { code: codes[0] ?? 'ERR_TPM_QUOTE', details: result.errors.map((e) => ({ code: e.code, message: e.message })) },
    });
  }
}
