import { timingSafeEqual } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { type VerifiedChain, type SignerKind, verifyChain } from './chain.js';
import type { ParsedCertificate } from './certificate.js';
import { type SnpClaims, buildClaims } from './claims.js';
import { checkRevoked, verifyCrl } from './crl.js';
import type { Product } from './product.js';
import { type SnpReport, parseReport } from './report.js';
import { verifyReportSignature } from './signature.js';
import { type Tcb, componentsBelow, componentsDiffering, decodeTcb, formatTcb, tcbReservedBytesZero } from './tcb.js';
import { type TrustStore, amdTrustStore } from './trust.js';
import { type VerifyWarning, collectWarnings } from './warnings.js';

export interface VerifyOptions {
  /** The VCEK or VLEK, optionally with its ASK/ASVK and ARK; roles are found by name. */
  readonly certificates?: readonly ParsedCertificate[];
  /** Defaults to the pinned AMD roots. Simulated anchors must be passed here explicitly. */
  readonly trust?: TrustStore;
  /** Verification time for certificate and CRL validity; defaults to now. */
  readonly now?: Date;
  /** Product for v1/v2 reports that carry no CPUID, when no certificate names it. */
  readonly product?: Product;
  /** DER CRLs (AMD publishes one per product and key kind); checked when given. */
  readonly crls?: readonly Uint8Array[];
  /** Fail with ERR_CRL_UNAVAILABLE when no CRL for the chain's product was given. */
  readonly requireRevocationCheck?: boolean;
  /** Accept a VCEK-signed report whose CHIP_ID is masked (all zero); the chip binding is then skipped. */
  readonly allowMaskedChipId?: boolean;
}

export interface SnpVerdict {
  readonly ok: boolean;
  readonly product: Product | null;
  readonly signer: SignerKind | null;
  readonly simulated: boolean;
  /** Present whenever the report parsed and its product is known; trust them only when `ok`. */
  readonly claims: SnpClaims | null;
  readonly warnings: readonly VerifyWarning[];
  readonly errors: readonly AttestationError[];
  readonly report: SnpReport | null;
}

/**
 * Verifies SEV-SNP evidence and returns every failed check, not only the first:
 *  1. parse the 1184-byte report and collect its format violations;
 *  2. verify the VCEK/VLEK chain to a trusted ARK (validity at `now`);
 *  3. settle the product: CPUID (v3+) must equal the chain's product; v1/v2 take it from the chain or a hint;
 *  4. verify the report signature with the chain's leaf key;
 *  5. bind: SIGNING_KEY matches the leaf kind, certificate TCB equals REPORTED_TCB, hwID equals CHIP_ID;
 *  6. REPORTED_TCB must not exceed CURRENT_TCB in any component;
 *  7. revocation, when CRLs are given or required.
 * Never throws for bad evidence: hostile input yields `ok: false` with typed errors.
 */
export function verifySnpReport(input: Uint8Array, options: VerifyOptions = {}): SnpVerdict {
  const errors: AttestationError[] = [];
  let report: SnpReport;
  try {
    report = parseReport(input);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    return { ok: false, product: null, signer: null, simulated: false, claims: null, warnings: [], errors: [e], report: null };
  }
  errors.push(...report.problems);
  const now = options.now ?? new Date();
  const chain = verifyChain(options.certificates ?? [], options.trust ?? amdTrustStore(), now, errors);
  const product = settleProduct(report, chain, options.product, errors);
  if (chain) {
    if (!verifyReportSignature(report, chain.leaf)) {
      errors.push(new AttestationError('ERR_SNP_SIGNATURE_INVALID', `the report signature does not verify with the supplied ${chain.kind} (wrong certificate for this chip/TCB, or the report was altered)`));
    }
    bindReportToChain(report, chain, options, errors);
  }
  if (product) checkTcbOrder(report, product, errors);
  if (chain && (options.crls?.length || options.requireRevocationCheck)) checkRevocation(chain, options, now, errors);
  const simulated = chain?.anchor.simulated ?? false;
  const claims = product && chain ? buildClaims(report, { product, signer: chain.kind, simulated, cspId: chain.extensions.cspID }) : null;
  const warnings = collectWarnings(report, { simulated, maskedChipIdAllowed: Boolean(options.allowMaskedChipId) });
  return { ok: errors.length === 0 && claims !== null, product, signer: chain?.kind ?? null, simulated, claims, warnings, errors, report };
}

function settleProduct(report: SnpReport, chain: VerifiedChain | null, hint: Product | undefined, errors: AttestationError[]): Product | null {
  if (report.cpuidProduct) {
    if (chain && chain.product !== report.cpuidProduct) {
      errors.push(new AttestationError('ERR_SNP_PRODUCT_MISMATCH', `the report comes from a ${report.cpuidProduct} processor but the certificate chain is ${chain.product}'s`));
    }
    return report.cpuidProduct;
  }
  if (report.cpuid) return null; // CPUID present but unknown: already an ERR_SNP_PRODUCT_UNKNOWN problem.
  if (chain) {
    if (hint && hint !== chain.product) {
      errors.push(new AttestationError('ERR_SNP_PRODUCT_MISMATCH', `--product ${hint} was given but the certificate chain is ${chain.product}'s`));
    }
    return chain.product;
  }
  if (hint) return hint;
  errors.push(new AttestationError('ERR_SNP_PRODUCT_UNDETERMINED', `a version ${report.version} report carries no CPUID; supply its VCEK/VLEK or name the product`));
  return null;
}

function bindReportToChain(report: SnpReport, chain: VerifiedChain, options: VerifyOptions, errors: AttestationError[]): void {
  const signing = report.keyInfoBits.signingKey;
  if ((signing === 'VCEK' || signing === 'VLEK') && signing !== chain.kind) {
    errors.push(new AttestationError('ERR_SNP_SIGNER_KIND_MISMATCH', `KEY_INFO says the report was signed by the ${signing} but a ${chain.kind} chain was supplied`));
  }
  checkCertificateTcb(report, chain, errors);
  if (chain.kind === 'VCEK') checkChipId(report, chain, options, errors);
}

/** Every SPL extension must equal the matching REPORTED_TCB component (trustee verify_report_tcb, go-sev-guest). */
function checkCertificateTcb(report: SnpReport, chain: VerifiedChain, errors: AttestationError[]): void {
  const reported = decodeTcb(report.reportedTcbRaw, chain.product);
  const ext = chain.extensions;
  const cert: Tcb = { bootloader: ext.blSPL ?? -1, tee: ext.teeSPL ?? -1, snp: ext.snpSPL ?? -1, microcode: ext.ucodeSPL ?? -1, ...(chain.product === 'Turin' ? { fmc: ext.fmcSPL ?? -1 } : {}) };
  const differing = componentsDiffering(reported, cert, chain.product);
  if (differing.length > 0 || !tcbReservedBytesZero(report.reportedTcbRaw, chain.product)) {
    errors.push(new AttestationError('ERR_SNP_TCB_MISMATCH', `the ${chain.kind} was issued for TCB ${formatTcb(cert)} but REPORTED_TCB is ${formatTcb(reported)}${differing.length ? ` (differs in ${differing.join(', ')})` : ' (reserved TCB bytes are not zero)'}`));
  }
}

/** hwID must equal CHIP_ID: all 64 bytes, or the first 8 on Turin with the rest zero. Constant-time compare. */
function checkChipId(report: SnpReport, chain: VerifiedChain, options: VerifyOptions, errors: AttestationError[]): void {
  const chipId = report.chipId;
  if (chipId.every((b) => b === 0)) {
    if (!options.allowMaskedChipId) {
      errors.push(new AttestationError('ERR_SNP_CHIP_ID_MASKED', 'CHIP_ID is all zero (the host set MASK_CHIP_ID): the report cannot be bound to the chip its VCEK names'));
    }
    return;
  }
  const hwId = chain.extensions.hwID!;
  const expected = Buffer.alloc(64);
  hwId.copy(expected);
  const lengthOk = hwId.length === (chain.product === 'Turin' ? 8 : 64);
  if (!lengthOk || !timingSafeEqual(expected, chipId)) {
    errors.push(new AttestationError('ERR_SNP_CHIP_ID_MISMATCH', `the VCEK was issued to chip ${hwId.toString('hex').slice(0, 16)}... but the report's CHIP_ID is ${chipId.toString('hex').slice(0, 16)}...`));
  }
}

function checkTcbOrder(report: SnpReport, product: Product, errors: AttestationError[]): void {
  const reported = decodeTcb(report.reportedTcbRaw, product);
  const current = decodeTcb(report.currentTcbRaw, product);
  const above = componentsBelow(current, reported, product);
  if (above.length > 0) {
    errors.push(new AttestationError('ERR_SNP_TCB_ORDER', `REPORTED_TCB (${formatTcb(reported)}) is above CURRENT_TCB (${formatTcb(current)}) in ${above.join(', ')}`));
  }
}

function checkRevocation(chain: VerifiedChain, options: VerifyOptions, now: Date, errors: AttestationError[]): void {
  let checked = false;
  for (const der of options.crls ?? []) {
    try {
      const crl = verifyCrl(der, chain.anchor, now);
      checked = true;
      errors.push(...checkRevoked([chain.intermediate, chain.leaf], crl));
    } catch (e) {
      if (!(e instanceof AttestationError)) throw e;
      // A CRL for another product is not an error; one for this product that fails is.
      if (e.code !== 'ERR_CRL_INVALID' || options.crls?.length === 1) errors.push(e);
    }
  }
  if (!checked && options.requireRevocationCheck) {
    errors.push(new AttestationError('ERR_CRL_UNAVAILABLE', `revocation checking is required but no valid CRL for ${chain.product} was available`));
  }
}
