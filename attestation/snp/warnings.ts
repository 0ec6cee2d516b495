import type { SnpReport } from './report.js';

/** Facts that do not make evidence false but that a release policy or an operator should see. */
export interface VerifyWarning {
  readonly code: string;
  readonly message: string;
}

export function collectWarnings(r: SnpReport, ctx: { simulated: boolean; maskedChipIdAllowed: boolean }): VerifyWarning[] {
  const w: VerifyWarning[] = [];
  const add = (code: string, message: string): void => {
    w.push({ code, message });
  };
  if (ctx.simulated) add('WARN_SIMULATED', 'the evidence chains to a SIMULATED AMD root: it proves nothing about real hardware');
  if (r.policyBits.debug) add('WARN_DEBUG_ALLOWED', 'guest POLICY allows debugging: the host can read and change guest memory');
  if (r.policyBits.migrateMa) add('WARN_MIGRATION_AGENT', 'guest POLICY allows association with a migration agent');
  if (r.version === 1) add('WARN_REPORT_V1', 'VERSION 1 report (early firmware format, v2 layout); most verifiers refuse it');
  if (r.vmpl !== 0) add('WARN_VMPL_NONZERO', `the report was requested at VMPL ${r.vmpl}, not 0`);
  if (!r.committedTcbRaw.equals(r.currentTcbRaw) || !sameVersion(r)) {
    add('WARN_PROVISIONAL_FIRMWARE', 'COMMITTED differs from CURRENT firmware/TCB: the host can still roll back to the committed version');
  }
  if (r.platformInfoBits.reservedHigh !== 0n) add('WARN_PLATFORM_INFO_RESERVED', `PLATFORM_INFO 0x${r.platformInfo.toString(16)} sets bits this verifier does not know`);
  if (ctx.maskedChipIdAllowed && r.keyInfoBits.signingKey === 'VCEK' && r.chipId.every((b) => b === 0)) {
    add('WARN_CHIP_ID_MASKED', 'CHIP_ID is masked; the chip binding was skipped as allowed');
  }
  return w;
}

function sameVersion(r: SnpReport): boolean {
  const a = r.currentVersion;
  const b = r.committedVersion;
  return a.major === b.major && a.minor === b.minor && a.build === b.build;
}
