import { type AzureCvmClaims, type HclVerdict, type PcrValues, parsePcrValues, quoteBindingNonce, rsaJwkThumbprint, verifyHclEvidence } from '../../attestation/azure/index.js';
import type { AttestationError } from '../../attestation/errors.js';
import { loadPemBundle } from '../../attestation/snp/certificate.js';
import type { TrustStore } from '../../attestation/snp/trust.js';
import type { AzureVtpmRunnerAttestation } from '../serve/attestation.js';
import { type AttestationCheckInput, type VerifyCheck, describeRuntime, endpointCheck, parseRuntime, policyCheck, tokenChecks, tokenIssuer } from './check-common.js';

type EvidenceCheck = 'evidence' | 'report-data' | 'quote' | 'pcrs' | 'runtime-data';

/** Runtime-claims problems: REPORT_DATA does not bind them, or they carry no usable AK. */
const REPORT_DATA_CODES = new Set(['ERR_HCL_CLAIMS_NOT_BOUND', 'ERR_HCL_RUNTIME_CLAIMS', 'ERR_HCL_AK_MISSING', 'ERR_HCL_KEY_INVALID']);
/** Quote problems that are about the PCR values served rather than the quote itself. */
const PCR_CODES = new Set(['ERR_TPM_PCR_DIGEST', 'ERR_TPM_PCR_MISSING', 'ERR_INPUT']);

/**
 * Azure vTPM evidence, checked as the KRS's `POST /attest/AzureCvm` checks it (attestation/azure's
 * verifyHclEvidence), each finding under its own check:
 *  - `evidence`: the HCL report parses, its SNP report and VCEK chain verify (AMD roots; the simulator's only
 *    with --sim-roots), requested at VMPL 0;
 *  - `report-data`: REPORT_DATA = H(HCL runtime claims) ‖ zeros, and the claims carry the AK (HCLAkPub);
 *  - `quote`: the TPM quote is well formed and signed by that AK;
 *  - `pcrs`: the quote's PCR digest is the hash of the PCR values served;
 *  - `runtime-data`: the quote's extraData is quoteBindingNonce(challenge, runtime data), so the runtime data
 *    (TEE key, configuration digest, endpoint) is what the TPM quoted, and it is a JSON object with the TEE key;
 * then, as for SEV-SNP, the token (issued for this SNP report and this quote nonce, and its signature), the
 * release policy over the verified claims in MAA's confidential-VM shape (SNP claims under
 * `x-ms-isolation-tee`, the runtime data as `x-ms-runtime`), and the endpoint.
 */
export async function checkAzureAttestation(i: AttestationCheckInput, a: AzureVtpmRunnerAttestation, trust: TrustStore | undefined, checks: VerifyCheck[]): Promise<void> {
  const runtimeBytes = Buffer.from(a.runtimeData, 'base64url');
  const runtime = parseRuntime(runtimeBytes);
  const nonce = quoteBindingNonce(a.challenge, runtimeBytes);
  const pcrs = readPcrs(a.pcrs);
  const verdict = verifyHclEvidence(Buffer.from(a.hclReport, 'base64url'), {
    certificates: a.certificates ? loadPemBundle(a.certificates) : [],
    ...(trust ? { trust } : {}),
    ...(i.now ? { now: i.now } : {}),
    tpm: { quote: { message: Buffer.from(a.quote.message, 'base64url'), signature: Buffer.from(a.quote.signature, 'base64url') }, nonce, pcrs: pcrs.values },
    requireQuote: true,
    ...(runtime ? { runtimeData: runtime } : {}),
  });
  const found = sortErrors(verdict);
  checks.push(evidenceCheck(verdict, found.evidence), reportDataCheck(verdict, found['report-data']));
  checks.push(...quoteChecks(verdict, found, pcrs.problem, runtime));
  const snp = verdict.snp?.report ?? null;
  const reportData = snp?.reportData.toString('hex') ?? null;
  const measurement = snp?.measurement.toString('hex') ?? null;
  const binding = {
    holds: (t: Readonly<Record<string, unknown>>) => {
      const tee = (t['x-ms-isolation-tee'] ?? {}) as Record<string, unknown>;
      return reportData !== null && tee['x-ms-sevsnpvm-reportdata'] === reportData && measurement !== null && tee['x-ms-sevsnpvm-launchmeasurement'] === measurement && t['x-zt4ai-tpm-nonce'] === nonce.toString('hex');
    },
    ok: "the token's REPORT_DATA and measurement (x-ms-isolation-tee) and its quote nonce are the evidence's",
    failed: 'the token was not issued for this evidence (REPORT_DATA, measurement or quote nonce differ)',
  };
  const tokenClaims = await tokenChecks(i, binding, checks);
  const verified = verdict.ok && verdict.claims && runtime ? verdict.claims : null;
  if (i.policy) checks.push(policyCheck(i.policy, verified ? policyClaims(verified, tokenClaims) : null, tokenIssuer(a.token)));
  checks.push(endpointCheck(i.url, i.peerSpkiSha256, runtime));
}

function readPcrs(json: unknown): { values: PcrValues; problem: string | null } {
  try {
    return { values: parsePcrValues(json), problem: null };
  } catch (e) {
    return { values: {}, problem: (e as Error).message };
  }
}

/** Every error of the verdict under the check it belongs to; the quote's own errors are told apart from the rest by identity. */
function sortErrors(verdict: HclVerdict): Record<EvidenceCheck, AttestationError[]> {
  const fromQuote = new Set(verdict.quote?.errors ?? []);
  const out: Record<EvidenceCheck, AttestationError[]> = { evidence: [], 'report-data': [], quote: [], pcrs: [], 'runtime-data': [] };
  for (const e of verdict.errors) {
    if (fromQuote.has(e)) out[PCR_CODES.has(e.code) ? 'pcrs' : e.code === 'ERR_TPM_QUOTE_NONCE' ? 'runtime-data' : 'quote'].push(e);
    else out[REPORT_DATA_CODES.has(e.code) ? 'report-data' : e.code === 'ERR_TPM_QUOTE_MISSING' ? 'quote' : 'evidence'].push(e);
  }
  return out;
}

function describe(errors: readonly AttestationError[]): string {
  return errors.map((e) => `${e.code}: ${e.message}`).join('; ');
}

function evidenceCheck(verdict: HclVerdict, errors: readonly AttestationError[]): VerifyCheck {
  const { hcl, snp } = verdict;
  const ok = hcl !== null && snp?.ok === true && errors.length === 0;
  if (!ok) return { name: 'evidence', ok, detail: errors.map((e) => e.code).join(', ') || 'the HCL report does not verify' };
  const measurement = snp.claims?.['x-ms-sevsnpvm-launchmeasurement'].slice(0, 16);
  return { name: 'evidence', ok, detail: `HCL report (version ${hcl.version}) with an SNP report at VMPL 0 signed by a ${snp.product} ${snp.signer}${snp.simulated ? ' under the SIMULATED root' : ''}; measurement ${measurement}...` };
}

function reportDataCheck(verdict: HclVerdict, errors: readonly AttestationError[]): VerifyCheck {
  const { hcl, runtimeClaims } = verdict;
  if (hcl === null) return { name: 'report-data', ok: false, detail: 'not checked: the HCL report cannot be read' };
  const h = hcl.hashType.toUpperCase();
  const ok = verdict.runtimeClaimsBound && runtimeClaims !== null && errors.length === 0;
  if (ok) return { name: 'report-data', ok, detail: `REPORT_DATA = ${h}(HCL runtime claims) ‖ zeros; AK (HCLAkPub) ${rsaJwkThumbprint(runtimeClaims.ak.key).slice(0, 16)}...` };
  const why = !verdict.runtimeClaimsBound ? `REPORT_DATA is not ${h}(HCL runtime claims) ‖ zeros: the runtime claims (and the AK in them) are not the ones the SNP report signed` : 'the HCL runtime claims carry no usable AK';
  const rest = errors.filter((e) => e.code !== 'ERR_HCL_CLAIMS_NOT_BOUND');
  return { name: 'report-data', ok, detail: rest.length > 0 ? `${why} (${describe(rest)})` : why };
}

/** The quote's signature, its PCR digest, and its nonce (which binds the runtime data), as three checks. */
function quoteChecks(verdict: HclVerdict, found: Record<EvidenceCheck, AttestationError[]>, pcrProblem: string | null, runtime: Record<string, unknown> | null): VerifyCheck[] {
  const q = verdict.quote;
  if (q === null) {
    const why = 'not checked: the HCL runtime claims give no AK to check the TPM quote with';
    return [
      { name: 'quote', ok: false, detail: why },
      { name: 'pcrs', ok: false, detail: why },
      { name: 'runtime-data', ok: false, detail: why },
    ];
  }
  const sig = q.signature;
  const quote: VerifyCheck = found.quote.length === 0 ? { name: 'quote', ok: true, detail: `TPM quote signed by the AK of the HCL runtime claims (${sig?.scheme.toUpperCase()}/${sig?.hash})` } : { name: 'quote', ok: false, detail: `the TPM quote does not verify with the AK of the HCL runtime claims: ${describe(found.quote)}` };
  const pcrOk = found.pcrs.length === 0 && pcrProblem === null;
  const bank = q.pcrs[0]?.hash ?? 'sha256';
  const pcrs: VerifyCheck = pcrOk
    ? { name: 'pcrs', ok: true, detail: `the quote's PCR digest is ${bank.toUpperCase()} of the ${q.pcrs.length} PCR values served (${q.pcrs.map((p) => p.index).join(',')})` }
    : { name: 'pcrs', ok: false, detail: `the PCR values served are not the ones the TPM quoted: ${[pcrProblem, describe(found.pcrs)].filter((s) => s).join('; ')}` };
  const nonceOk = found['runtime-data'].length === 0;
  const runtimeData: VerifyCheck = !nonceOk
    ? { name: 'runtime-data', ok: false, detail: "the quote's nonce is not SHA-256(challenge ‖ runtime data): the TPM quoted other runtime data (another TEE key, configuration or endpoint) or another challenge" }
    : runtime === null
      ? { name: 'runtime-data', ok: false, detail: 'the runtime data is not a JSON object with the TEE key' }
      : { name: 'runtime-data', ok: true, detail: `the quote's nonce is SHA-256(challenge ‖ runtime data); ${describeRuntime(runtime)}` };
  return [quote, pcrs, runtimeData];
}

/**
 * The claims a release policy sees: the verified token's, overridden by what the client verified itself, in MAA's
 * confidential-VM shape. `x-ms-isolation-tee.x-ms-compliance-status` is the attestation service's judgement, not a
 * property of the evidence: it is taken from the verified token (e.g. `azure-compliant-cvm`, as the KRS is
 * configured), and is attestation/azure's own `zt4ai-verified-cvm` without one.
 */
function policyClaims(verified: AzureCvmClaims, token: Record<string, unknown> | null): Record<string, unknown> {
  const tokenTee = (token?.['x-ms-isolation-tee'] ?? null) as Record<string, unknown> | null;
  const status = typeof tokenTee?.['x-ms-compliance-status'] === 'string' ? tokenTee['x-ms-compliance-status'] : verified['x-ms-isolation-tee']['x-ms-compliance-status'];
  return { ...(token ?? {}), ...verified, 'x-ms-isolation-tee': { ...verified['x-ms-isolation-tee'], 'x-ms-compliance-status': status } };
}
