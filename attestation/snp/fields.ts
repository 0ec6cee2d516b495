/**
 * Bit fields of POLICY, PLATFORM_INFO and KEY_INFO (SEV-SNP ABI; shared/docs/snp-evidence.md §3-5).
 */
export interface GuestPolicy {
  readonly abiMinor: number;
  readonly abiMajor: number;
  readonly smt: boolean;
  readonly reserved17: boolean;
  readonly migrateMa: boolean;
  readonly debug: boolean;
  readonly singleSocket: boolean;
  readonly cxlAllow: boolean;
  readonly memAes256Xts: boolean;
  readonly raplDis: boolean;
  readonly ciphertextHiding: boolean;
  readonly pageSwapDisable: boolean;
  /** Bits 26..63; must be zero. */
  readonly reservedHigh: bigint;
}

const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

export function decodePolicy(policy: bigint): GuestPolicy {
  return {
    abiMinor: Number(policy & 0xffn),
    abiMajor: Number((policy >> 8n) & 0xffn),
    smt: bit(policy, 16),
    reserved17: bit(policy, 17),
    migrateMa: bit(policy, 18),
    debug: bit(policy, 19),
    singleSocket: bit(policy, 20),
    cxlAllow: bit(policy, 21),
    memAes256Xts: bit(policy, 22),
    raplDis: bit(policy, 23),
    ciphertextHiding: bit(policy, 24),
    pageSwapDisable: bit(policy, 25),
    reservedHigh: policy >> 26n,
  };
}

export function encodePolicy(p: Partial<GuestPolicy>): bigint {
  const flags: Array<[boolean | undefined, number]> = [
    [p.smt, 16],
    [p.reserved17 ?? true, 17],
    [p.migrateMa, 18],
    [p.debug, 19],
    [p.singleSocket, 20],
    [p.cxlAllow, 21],
    [p.memAes256Xts, 22],
    [p.raplDis, 23],
    [p.ciphertextHiding, 24],
    [p.pageSwapDisable, 25],
  ];
  let v = BigInt(p.abiMinor ?? 0) | (BigInt(p.abiMajor ?? 0) << 8n);
  for (const [on, n] of flags) if (on) v |= 1n << BigInt(n);
  return v;
}

export interface PlatformInfo {
  readonly smtEnabled: boolean;
  readonly tsmeEnabled: boolean;
  readonly eccEnabled: boolean;
  readonly raplDisabled: boolean;
  readonly ciphertextHidingEnabled: boolean;
  /** BadRAM (CVE-2024-21944) alias check done; defined for v3+ reports only. */
  readonly aliasCheckComplete: boolean;
  /** Set on real Turin parts though go-sev-guest and virtee still call it reserved (pitfall 8). */
  readonly bit6: boolean;
  readonly tioEnabled: boolean;
  /** Bits 8..63. */
  readonly reservedHigh: bigint;
}

export function decodePlatformInfo(v: bigint): PlatformInfo {
  return {
    smtEnabled: bit(v, 0),
    tsmeEnabled: bit(v, 1),
    eccEnabled: bit(v, 2),
    raplDisabled: bit(v, 3),
    ciphertextHidingEnabled: bit(v, 4),
    aliasCheckComplete: bit(v, 5),
    bit6: bit(v, 6),
    tioEnabled: bit(v, 7),
    reservedHigh: v >> 8n,
  };
}

export type SigningKey = 'VCEK' | 'VLEK' | 'NONE' | 'RESERVED';

export interface KeyInfo {
  readonly authorKeyEn: boolean;
  readonly maskChipKey: boolean;
  readonly signingKey: SigningKey;
  readonly signingKeyRaw: number;
  /** Bits 5..31; must be zero. */
  readonly reservedHigh: number;
}

export function decodeKeyInfo(v: number): KeyInfo {
  const raw = (v >>> 2) & 0x7;
  const signingKey: SigningKey = raw === 0 ? 'VCEK' : raw === 1 ? 'VLEK' : raw === 7 ? 'NONE' : 'RESERVED';
  return {
    authorKeyEn: (v & 1) === 1,
    maskChipKey: (v & 2) === 2,
    signingKey,
    signingKeyRaw: raw,
    reservedHigh: v >>> 5,
  };
}

export function encodeKeyInfo(k: { authorKeyEn?: boolean; maskChipKey?: boolean; signingKey: 'VCEK' | 'VLEK' }): number {
  return (k.authorKeyEn ? 1 : 0) | (k.maskChipKey ? 2 : 0) | ((k.signingKey === 'VLEK' ? 1 : 0) << 2);
}
