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
  if (v.product || v.signer) lines.push(`  product ${v.product ?? '?'}, signed by ${v.signer ?? '?'}${v.simulated ? ' (SIMULATED root)' : ''}`);
  if (v.claims) {
    lines.push(`  report v${v.claims['x-zt4ai-report-version']}, firmware ${v.claims['x-zt4ai-fw-version']}, VMPL ${v.claims['x-ms-sevsnpvm-vmpl']}`);
    lines.push(`  measurement ${v.claims['x-ms-sevsnpvm-launchmeasurement']}`);
  }
  for (const e of errors) lines.push(`  x ${e.code}: ${e.message}`);
  for (const w of v.warnings) lines.push(`  ! ${w.code}: ${w.message}`);
  io.stdout(`${lines.join('\n')}\n`);
}
