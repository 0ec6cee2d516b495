import { sign } from 'node:crypto';
import { p384 } from '@noble/curves/nist.js';
import type { EndorsementKey } from './endorsement-key.js';
import { signedPart, writeSignature } from './report-writer.js';

/**
 * Signs report bytes 0x000..0x29F with ECDSA P-384/SHA-384 and writes r and s into the report. Deterministic
 * mode uses RFC 6979 nonces (noble, which hashes with SHA-384 itself); lowS is off because the firmware does
 * not normalize s and verifiers must accept either half. Otherwise node:crypto signs with a random nonce.
 */
export function signReport(report: Buffer, key: EndorsementKey, deterministic: boolean): void {
  const message = signedPart(report);
  const rs = deterministic
    ? Buffer.from(p384.sign(message, key.scalar, { lowS: false, prehash: true }))
    : sign('sha384', message, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  writeSignature(report, rs.subarray(0, 48), rs.subarray(48, 96));
}
