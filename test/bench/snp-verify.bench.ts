import { createPublicKey, verify } from 'node:crypto';
import { type ParsedCertificate, loadCertificates } from '../../attestation/snp/certificate.js';
import { SIGNED_LENGTH } from '../../attestation/snp/layout.js';
import { parseReport } from '../../attestation/snp/report.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import { HAS_SHARED, snpVector } from '../helpers/shared.js';
import { ratio, report } from './harness.js';

/**
 * Verified reports per second with the chain cached (the KRS's steady state: the same VCEK for many
 * requests) against raw node:crypto P-384 verifications per second of the same signature.
 */
export function benchSnpVerify(): boolean {
  if (!HAS_SHARED) {
    console.log('snp verify: skipped (../shared/vectors absent)');
    return true;
  }
  const bytes = snpVector('oak/turin_oc_report.bin');
  const certificates: ParsedCertificate[] = loadCertificates(snpVector('oak/turin_oc_vcek.der'));
  const now = new Date(certificates[0]!.notBefore.getTime() + 86_400_000);
  const parsed = parseReport(bytes);
  const key = createPublicKey(certificates[0]!.der.length ? certificates[0]!.x509.publicKey.export({ format: 'pem', type: 'spki' }) : '');
  const sig = Buffer.concat([parsed.signatureR, parsed.signatureS]);
  const signed = bytes.subarray(0, SIGNED_LENGTH);
  if (!verifySnpReport(bytes, { certificates, now }).ok) throw new Error('bench input does not verify');
  const m = ratio(
    () => {
      if (!verifySnpReport(bytes, { certificates, now }).ok) throw new Error('verify failed');
    },
    () => {
      if (!verify('sha384', signed, { key, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('raw verify failed');
    },
  );
  return report('snp verify (chain cached)', m, 0.9, 'reports/s', 'node:crypto ECDSA P-384 verify');
}
