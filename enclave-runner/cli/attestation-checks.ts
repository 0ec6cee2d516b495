import { createHash } from 'node:crypto';
import { loadPemBundle } from '../../attestation/snp/certificate.js';
import { type TrustStore, amdTrustStore, trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import type { SnpRunnerAttestation } from '../serve/attestation.js';
import { checkAzureAttestation } from './azure-checks.js';
import { checkGuestAttestation } from './guest-checks.js';
import { type AttestationCheckInput, type VerifyCheck, describeRuntime, endpointCheck, parseRuntime, policyCheck, tokenChecks, tokenIssuer } from './check-common.js';

export type { AttestationCheckInput, VerifyCheck } from './check-common.js';

/**
 * The client's own checks of a runner's `/attestation`: the evidence and its chain, that it commits to the
 * runtime data, that the token speaks of this very evidence, the token's signature (the issuer's JWKS), the
 * release policy over the verified claims, and that the endpoint reached is the attested one. Every check is
 * made and listed; nothing is trusted that a failed check depends on. SEV-SNP evidence (`kind: "sevsnp"`, or
 * no kind from an older runner): below; Azure vTPM evidence (`kind: "azure-vtpm"`): azure-checks.ts; MAA
 * AzureGuest evidence (`kind: "azure-guest"`): guest-checks.ts.
 */
export async function checkAttestation(i: AttestationCheckInput): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  try {
    const trust = i.simRootsPem === null ? undefined : [...amdTrustStore(), ...trustAnchorsFromPem(i.simRootsPem, { simulated: true })];
    if (i.attestation.kind === 'azure-vtpm') await checkAzureAttestation(i, i.attestation, trust, checks);
    else if (i.attestation.kind === 'azure-guest') await checkGuestAttestation(i, i.attestation, trust, checks);
    else await checkSnpAttestation(i, i.attestation, trust, checks);
  } catch (e) {
    checks.push({ name: 'evidence', ok: false, detail: `the evidence cannot be read: ${(e as { code?: string }).code ?? (e as Error).message}` });
  }
  return checks;
}

/** SEV-SNP: the report and its chain (attestation/snp), and REPORT_DATA = SHA-256(runtime data) ‖ zeros. */
async function checkSnpAttestation(i: AttestationCheckInput, a: SnpRunnerAttestation, trust: TrustStore | undefined, checks: VerifyCheck[]): Promise<void> {
  const report = Buffer.from(a.report, 'base64url');
  const runtimeBytes = Buffer.from(a.runtimeData, 'base64url');
  const verdict = verifySnpReport(report, { certificates: a.certificates ? loadPemBundle(a.certificates) : [], ...(trust ? { trust } : {}), ...(i.now ? { now: i.now } : {}) });
  const claims = verdict.ok ? verdict.claims : null;
  checks.push({
    name: 'evidence',
    ok: verdict.ok,
    detail: verdict.ok ? `SNP report signed by a ${verdict.product} ${verdict.signer}${verdict.simulated ? ' under the SIMULATED root' : ''}; measurement ${claims?.['x-ms-sevsnpvm-launchmeasurement'].slice(0, 16)}...` : verdict.errors.map((e) => e.code).join(', '),
  });
  const expected = Buffer.concat([createHash('sha256').update(runtimeBytes).digest(), Buffer.alloc(32)]);
  const bound = verdict.report?.reportData.equals(expected) === true;
  const runtime = parseRuntime(runtimeBytes);
  checks.push({
    name: 'report-data',
    ok: bound && runtime !== null,
    detail: !bound ? 'REPORT_DATA is not SHA-256(runtime data) ‖ zeros' : runtime === null ? 'the runtime data is not a JSON object with the TEE key' : `REPORT_DATA = SHA-256(runtime data) ‖ zeros; ${describeRuntime(runtime)}`,
  });
  const reportData = verdict.report?.reportData.toString('hex') ?? null;
  const measurement = claims?.['x-ms-sevsnpvm-launchmeasurement'] ?? null;
  const binding = {
    holds: (t: Readonly<Record<string, unknown>>) => reportData !== null && t['x-ms-sevsnpvm-reportdata'] === reportData && measurement !== null && t['x-ms-sevsnpvm-launchmeasurement'] === measurement,
    ok: "the token's REPORT_DATA and measurement are the report's",
    failed: 'the token was not issued for this report (REPORT_DATA or measurement differ)',
  };
  const tokenClaims = await tokenChecks(i, binding, checks);
  if (i.policy) checks.push(policyCheck(i.policy, claims && bound && runtime ? { ...(tokenClaims ?? {}), ...claims, 'x-ms-runtime': runtime } : null, tokenIssuer(a.token)));
  checks.push(endpointCheck(i.url, i.peerSpkiSha256, runtime));
}
