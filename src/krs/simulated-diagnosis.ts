import type { ParsedCertificate } from '../../attestation/snp/certificate.js';
import type { TrustStore } from '../../attestation/snp/trust.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';

/**
 * Whether refused evidence would have verified against the simulator's roots, which this service holds only to
 * say so (ERR_SIMULATED_NOT_TRUSTED) instead of a bare chain failure. Every attest route asks this first.
 */
export function chainsToUntrustedSimulator(snpReport: Buffer | null | undefined, certificates: ParsedCertificate[], anchors: TrustStore | undefined, now: Date): boolean {
  return Boolean(anchors?.length && snpReport && verifySnpReport(snpReport, { certificates, trust: anchors, now }).ok);
}
