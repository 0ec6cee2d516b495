/**
 * ATTESTATION_REPORT byte layout (SEV-SNP Firmware ABI, AMD #56860, table "ATTESTATION_REPORT Structure").
 * Offsets are checked against go-sev-guest abi.go and virtee/sev snp.rs; see shared/docs/snp-evidence.md §2.
 */
export const REPORT_SIZE = 0x4a0;
/** The signature covers bytes 0x000..0x29F. */
export const SIGNED_LENGTH = 0x2a0;

export const OFF = {
  version: 0x000,
  guestSvn: 0x004,
  policy: 0x008,
  familyId: 0x010,
  imageId: 0x020,
  vmpl: 0x030,
  signatureAlgo: 0x034,
  currentTcb: 0x038,
  platformInfo: 0x040,
  keyInfo: 0x048,
  reportData: 0x050,
  measurement: 0x090,
  hostData: 0x0c0,
  idKeyDigest: 0x0e0,
  authorKeyDigest: 0x110,
  reportId: 0x140,
  reportIdMa: 0x160,
  reportedTcb: 0x180,
  cpuidFamily: 0x188,
  cpuidModel: 0x189,
  cpuidStepping: 0x18a,
  chipId: 0x1a0,
  committedTcb: 0x1e0,
  currentBuild: 0x1e8,
  currentMinor: 0x1e9,
  currentMajor: 0x1ea,
  committedBuild: 0x1ec,
  committedMinor: 0x1ed,
  committedMajor: 0x1ee,
  launchTcb: 0x1f0,
  launchMitVector: 0x1f8,
  currentMitVector: 0x200,
  signatureR: 0x2a0,
  signatureS: 0x2e8,
} as const;

export const SIZE = {
  familyId: 16,
  imageId: 16,
  reportData: 64,
  measurement: 48,
  hostData: 32,
  idKeyDigest: 48,
  authorKeyDigest: 48,
  reportId: 32,
  reportIdMa: 32,
  chipId: 64,
  tcb: 8,
  /** R and S are 72-byte little-endian fields; P-384 uses the low 48 bytes. */
  signatureComponent: 72,
  p384: 48,
} as const;

export const MIN_VERSION = 1;
export const MAX_VERSION = 5;

/** Must-be-zero ranges [start, end) per version (go-sev-guest abi.go ReportToProto). */
export function reservedRanges(version: number): ReadonlyArray<readonly [number, number]> {
  const cpuidReserved: readonly [number, number] = version >= 3 ? [0x18b, 0x1a0] : [0x188, 0x1a0];
  const tailReserved: readonly [number, number] = version >= 5 ? [0x208, 0x2a0] : [0x1f8, 0x2a0];
  return [[0x04c, 0x050], cpuidReserved, [0x1eb, 0x1ec], [0x1ef, 0x1f0], tailReserved, [0x330, REPORT_SIZE]];
}
