import { createHash, timingSafeEqual } from 'node:crypto';
import { OFF, SIZE } from '../snp/layout.js';
import type { HclReport } from './hcl.js';

/** The hash of the runtime claims bytes exactly as embedded, with the HCL's hash type. */
export function runtimeClaimsDigest(hcl: HclReport): Buffer {
  return createHash(hcl.hashType).update(hcl.runtimeClaims).digest();
}

/**
 * REPORT_DATA must be H(runtime claims) followed by zero bytes (snp-evidence.md §10, pitfall 27): SHA-256
 * fills 32 bytes, SHA-384 48, SHA-512 all 64. Compared in constant time over all 64 bytes, so that nothing
 * else can hide in the unused tail.
 */
export function runtimeClaimsBound(hcl: HclReport): boolean {
  const expected = Buffer.alloc(SIZE.reportData);
  runtimeClaimsDigest(hcl).copy(expected);
  const actual = hcl.snpReport.subarray(OFF.reportData, OFF.reportData + SIZE.reportData);
  return timingSafeEqual(expected, actual);
}
