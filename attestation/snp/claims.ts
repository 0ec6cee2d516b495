import type { SignerKind } from './chain.js';
import type { FirmwareVersion, SnpReport } from './report.js';
import type { Product } from './product.js';
import { type Tcb, decodeTcb } from './tcb.js';

/**
 * Claims of a verified SNP report, named as Microsoft Azure Attestation names them (x-ms-sevsnpvm-*), so one
 * release policy works on local verdicts and on MAA tokens; zt4ai's own facts use the x-zt4ai- prefix.
 * Hex is lower case. SVN claims come from REPORTED_TCB, the TCB the signing key was derived from.
 */
export interface SnpClaims {
  'x-ms-attestation-type': 'sevsnpvm';
  'x-ms-sevsnpvm-launchmeasurement': string;
  'x-ms-sevsnpvm-reportdata': string;
  'x-ms-sevsnpvm-hostdata': string;
  'x-ms-sevsnpvm-is-debuggable': boolean;
  'x-ms-sevsnpvm-migration-allowed': boolean;
  'x-ms-sevsnpvm-smt-allowed': boolean;
  'x-ms-sevsnpvm-vmpl': number;
  'x-ms-sevsnpvm-guestsvn': number;
  'x-ms-sevsnpvm-bootloader-svn': number;
  'x-ms-sevsnpvm-tee-svn': number;
  'x-ms-sevsnpvm-snpfw-svn': number;
  'x-ms-sevsnpvm-microcode-svn': number;
  'x-ms-sevsnpvm-familyId': string;
  'x-ms-sevsnpvm-imageId': string;
  'x-ms-sevsnpvm-idkeydigest': string;
  'x-ms-sevsnpvm-authorkeydigest': string;
  'x-ms-sevsnpvm-reportid': string;
  'x-zt4ai-product': Product;
  'x-zt4ai-signer': SignerKind;
  'x-zt4ai-simulated': boolean;
  'x-zt4ai-report-version': number;
  'x-zt4ai-chip-id': string;
  'x-zt4ai-fw-version': string;
  'x-zt4ai-committed-fw-version': string;
  'x-zt4ai-reported-tcb': Tcb;
  'x-zt4ai-current-tcb': Tcb;
  'x-zt4ai-committed-tcb': Tcb;
  'x-zt4ai-launch-tcb': Tcb;
  'x-zt4ai-guest-policy': string;
  'x-zt4ai-platform-info': string;
  'x-zt4ai-cpuid': { family: number; model: number; stepping: number } | null;
  'x-zt4ai-vlek-csp-id'?: string;
}

export interface ClaimContext {
  readonly product: Product;
  readonly signer: SignerKind;
  readonly simulated: boolean;
  readonly cspId?: string | null;
}

export function buildClaims(r: SnpReport, ctx: ClaimContext): SnpClaims {
  const reported = decodeTcb(r.reportedTcbRaw, ctx.product);
  const claims: SnpClaims = {
    'x-ms-attestation-type': 'sevsnpvm',
    'x-ms-sevsnpvm-launchmeasurement': hex(r.measurement),
    'x-ms-sevsnpvm-reportdata': hex(r.reportData),
    'x-ms-sevsnpvm-hostdata': hex(r.hostData),
    'x-ms-sevsnpvm-is-debuggable': r.policyBits.debug,
    'x-ms-sevsnpvm-migration-allowed': r.policyBits.migrateMa,
    'x-ms-sevsnpvm-smt-allowed': r.policyBits.smt,
    'x-ms-sevsnpvm-vmpl': r.vmpl,
    'x-ms-sevsnpvm-guestsvn': r.guestSvn,
    'x-ms-sevsnpvm-bootloader-svn': reported.bootloader,
    'x-ms-sevsnpvm-tee-svn': reported.tee,
    'x-ms-sevsnpvm-snpfw-svn': reported.snp,
    'x-ms-sevsnpvm-microcode-svn': reported.microcode,
    'x-ms-sevsnpvm-familyId': hex(r.familyId),
    'x-ms-sevsnpvm-imageId': hex(r.imageId),
    'x-ms-sevsnpvm-idkeydigest': hex(r.idKeyDigest),
    'x-ms-sevsnpvm-authorkeydigest': hex(r.authorKeyDigest),
    'x-ms-sevsnpvm-reportid': hex(r.reportId),
    'x-zt4ai-product': ctx.product,
    'x-zt4ai-signer': ctx.signer,
    'x-zt4ai-simulated': ctx.simulated,
    'x-zt4ai-report-version': r.version,
    'x-zt4ai-chip-id': hex(r.chipId),
    'x-zt4ai-fw-version': formatVersion(r.currentVersion),
    'x-zt4ai-committed-fw-version': formatVersion(r.committedVersion),
    'x-zt4ai-reported-tcb': reported,
    'x-zt4ai-current-tcb': decodeTcb(r.currentTcbRaw, ctx.product),
    'x-zt4ai-committed-tcb': decodeTcb(r.committedTcbRaw, ctx.product),
    'x-zt4ai-launch-tcb': decodeTcb(r.launchTcbRaw, ctx.product),
    'x-zt4ai-guest-policy': `0x${r.policy.toString(16)}`,
    'x-zt4ai-platform-info': `0x${r.platformInfo.toString(16)}`,
    'x-zt4ai-cpuid': r.cpuid ? { ...r.cpuid } : null,
  };
  if (ctx.cspId) claims['x-zt4ai-vlek-csp-id'] = ctx.cspId;
  return claims;
}

export function formatVersion(v: FirmwareVersion): string {
  return `${v.major}.${v.minor}.${v.build}`;
}

function hex(b: Buffer): string {
  return b.toString('hex');
}
