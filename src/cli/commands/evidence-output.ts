import type { AttestationError } from '../../../attestation/errors.js';
import type { AzureGuestVerdict } from '../../../attestation/azure/verify-guest.js';
import type { HclVerdict } from '../../../attestation/azure/verify-hcl.js';
import type { SnpVerdict } from '../../../attestation/snp/verify.js';
import { type CliIo, printJson } from '../io.js';

/** The JSON shape is a contract (scripts and CI parse it); the text form is for people. */
export function printVerdict(io: CliIo, flags: { json?: boolean; report: string }, v: SnpVerdict): void {
  const errors = v.errors.map((e) => ({ code: e.code, message: e.message }));
  if (flags.json) {
    printJson(io, { ok: v.ok, product: v.product, signer: v.signer, simulated: v.simulated, claims: v.claims, warnings: v.warnings, errors });
    return;
  }
  const lines = [`${v.ok ? 'GENUINE' : 'REJECTED'}: ${flags.report}`];
  lines.push(...snpLines(v));
  for (const e of errors) lines.push(`  x ${e.code}: ${e.message}`);
  for (const w of v.warnings) lines.push(`  ! ${w.code}: ${w.message}`);
  io.stdout(`${lines.join('\n')}\n`);
}

function snpLines(v: SnpVerdict): string[] {
  const lines: string[] = [];
  if (v.product || v.signer) lines.push(`  product ${v.product ?? '?'}, signed by ${v.signer ?? '?'}${v.simulated ? ' (SIMULATED root)' : ''}`);
  if (v.claims) {
    lines.push(`  report v${v.claims['x-zt4ai-report-version']}, firmware ${v.claims['x-zt4ai-fw-version']}, VMPL ${v.claims['x-ms-sevsnpvm-vmpl']}`);
    lines.push(`  measurement ${v.claims['x-ms-sevsnpvm-launchmeasurement']}`);
  }
  return lines;
}

/** A verdict for HCL evidence that failed before verification (for example while fetching its VCEK). */
export function failedHclVerdict(e: AttestationError): HclVerdict {
  return { ok: false, hcl: null, snp: null, runtimeClaimsJson: null, runtimeClaims: null, runtimeClaimsBound: false, quote: null, claims: null, warnings: [], errors: [e] };
}

/**
 * HCL evidence: the SNP verdict's keys plus `format`, `runtimeClaimsBound`, `x-ms-runtime` (the runtime
 * claims as embedded, shown even when unbound so that a person can see what was refused) and `tpmQuote`.
 * `claims` are MAA-shaped (x-ms-isolation-tee) and present only when ok.
 */
export function printHclVerdict(io: CliIo, flags: { json?: boolean; report: string }, v: HclVerdict): void {
  const errors = v.errors.map((e) => ({ code: e.code, message: e.message }));
  if (flags.json) {
    printJson(io, {
      ok: v.ok,
      format: 'azure-hcl',
      product: v.snp?.product ?? null,
      signer: v.snp?.signer ?? null,
      simulated: v.snp?.simulated ?? false,
      runtimeClaimsBound: v.runtimeClaimsBound,
      'x-ms-runtime': v.runtimeClaimsJson,
      tpmQuote: quoteJson(v),
      claims: v.claims,
      warnings: v.warnings,
      errors,
    });
    return;
  }
  const lines = [`${v.ok ? 'GENUINE' : 'REJECTED'}: ${flags.report}`];
  if (v.hcl) lines.push(`  Azure HCL report v${v.hcl.version} (SEV-SNP), runtime claims ${v.runtimeClaimsBound ? 'bound by REPORT_DATA' : 'NOT bound'}`);
  if (v.snp) lines.push(...snpLines(v.snp));
  if (v.claims) lines.push(`  HCLAkPub ${v.claims['x-zt4ai-hcl-ak-thumbprint']}${v.claims['x-ms-azurevm-vmid'] ? `, vmUniqueId ${v.claims['x-ms-azurevm-vmid']}` : ''}`);
  if (v.quote?.ok) lines.push(`  TPM quote verified: nonce matches, PCRs ${v.quote.pcrs.map((p) => p.index).join(',')}`);
  for (const e of errors) lines.push(`  x ${e.code}: ${e.message}`);
  for (const w of v.warnings) lines.push(`  ! ${w.code}: ${w.message}`);
  io.stdout(`${lines.join('\n')}\n`);
}

function quoteJson(v: HclVerdict): Record<string, unknown> | null {
  const q = v.quote;
  if (!q) return null;
  return {
    verified: q.ok,
    nonce: q.attest?.extraData.toString('hex') ?? null,
    clock: q.attest ? q.attest.clockInfo.clock.toString() : null,
    pcrs: Object.fromEntries(q.pcrs.map((p) => [`${p.hash}:${p.index}`, p.value.toString('hex')])),
  };
}

/**
 * MAA AzureGuest evidence (an AttestationInfo): the SNP verdict's keys plus `format: "azure-guest"`; `claims` are
 * those the KRS's POST /attest/AzureGuest would put in the token (MAA's confidential-VM shape), only when ok.
 */
export function printGuestVerdict(io: CliIo, flags: { json?: boolean; report: string }, v: AzureGuestVerdict): void {
  const errors = v.errors.map((e) => ({ code: e.code, message: e.message }));
  if (flags.json) {
    printJson(io, { ok: v.ok, format: 'azure-guest', product: v.snp.product, signer: v.snp.signer, simulated: v.snp.simulated, claims: v.claims, warnings: v.warnings, errors });
    return;
  }
  const c = v.claims;
  const lines = [`${v.ok ? 'GENUINE' : 'REJECTED'}: ${flags.report}`, '  Azure Attestation AzureGuest request (SEV-SNP)', ...snpLines(v.snp)];
  if (c) {
    lines.push(`  ${c['x-ms-azurevm-ostype']} ${c['x-ms-azurevm-osdistro']} ${c['x-ms-azurevm-osversion-major']}.${c['x-ms-azurevm-osversion-minor']}, vmUniqueId ${c['x-ms-azurevm-vmid'] ?? '?'}`);
    lines.push(`  PCRs ${c['x-ms-azurevm-attested-pcrs'].join(',')} quoted; ephemeral key certified and bound to them; secureboot ${c.secureboot ?? 'not shown by a TCG log'}`);
    lines.push(`  AK certificate ${c['x-zt4ai-ak-cert-verified'] ? 'issued by a given vTPM CA' : 'certifies the AK (issuer not judged: --ak-cert-anchors)'}`);
  }
  for (const e of errors) lines.push(`  x ${e.code}: ${e.message}`);
  for (const w of v.warnings) lines.push(`  ! ${w.code}: ${w.message}`);
  io.stdout(`${lines.join('\n')}\n`);
}
