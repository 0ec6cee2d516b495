import type { PlatformInfo } from '../attestation/snp/fields.js';

const BITS: ReadonlyArray<readonly [keyof PlatformInfo, number]> = [
  ['smtEnabled', 0],
  ['tsmeEnabled', 1],
  ['eccEnabled', 2],
  ['raplDisabled', 3],
  ['ciphertextHidingEnabled', 4],
  ['aliasCheckComplete', 5],
  ['bit6', 6],
  ['tioEnabled', 7],
];

/** The inverse of attestation's decodePlatformInfo (which has no encoder): named flags to the u64. */
export function encodePlatformInfo(p: Partial<PlatformInfo>): bigint {
  let v = (p.reservedHigh ?? 0n) << 8n;
  for (const [name, bit] of BITS) if (p[name] === true) v |= 1n << BigInt(bit);
  return v;
}
