import { OFF, REPORT_SIZE, SIGNED_LENGTH, SIZE } from '../attestation/snp/layout.js';
import type { Cpuid } from '../attestation/snp/product.js';
import type { FirmwareVersion } from '../attestation/snp/report.js';

/** Every field of an ATTESTATION_REPORT, already encoded; `encodeReport` only places them. */
export interface ReportFields {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly currentTcb: Uint8Array;
  readonly platformInfo: bigint;
  readonly keyInfo: number;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: Uint8Array;
  /** Written for v3+ only. */
  readonly cpuid: Cpuid;
  readonly chipId: Uint8Array;
  readonly committedTcb: Uint8Array;
  readonly currentVersion: FirmwareVersion;
  readonly committedVersion: FirmwareVersion;
  readonly launchTcb: Uint8Array;
  /** Written for v5 only; earlier firmware leaves the range zero. */
  readonly launchMitVector: bigint;
  readonly currentMitVector: bigint;
}

function put(out: Buffer, off: number, size: number, bytes: Uint8Array, name: string): void {
  if (bytes.length !== size) throw new RangeError(`${name} must be ${size} bytes, got ${bytes.length}`);
  out.set(bytes, off);
}

/**
 * The 1184-byte report with the signature field zero. Everything not written here (reserved ranges, the
 * CPUID bytes before v3, the mitigation vectors before v5) stays zero, as the firmware leaves it.
 */
export function encodeReport(f: ReportFields): Buffer {
  const out = Buffer.alloc(REPORT_SIZE);
  out.writeUInt32LE(f.version, OFF.version);
  out.writeUInt32LE(f.guestSvn, OFF.guestSvn);
  out.writeBigUInt64LE(f.policy, OFF.policy);
  put(out, OFF.familyId, SIZE.familyId, f.familyId, 'FAMILY_ID');
  put(out, OFF.imageId, SIZE.imageId, f.imageId, 'IMAGE_ID');
  out.writeUInt32LE(f.vmpl, OFF.vmpl);
  out.writeUInt32LE(1, OFF.signatureAlgo); // ECDSA P-384 with SHA-384
  put(out, OFF.currentTcb, SIZE.tcb, f.currentTcb, 'CURRENT_TCB');
  out.writeBigUInt64LE(f.platformInfo, OFF.platformInfo);
  out.writeUInt32LE(f.keyInfo, OFF.keyInfo);
  put(out, OFF.reportData, SIZE.reportData, f.reportData, 'REPORT_DATA');
  put(out, OFF.measurement, SIZE.measurement, f.measurement, 'MEASUREMENT');
  put(out, OFF.hostData, SIZE.hostData, f.hostData, 'HOST_DATA');
  put(out, OFF.idKeyDigest, SIZE.idKeyDigest, f.idKeyDigest, 'ID_KEY_DIGEST');
  put(out, OFF.authorKeyDigest, SIZE.authorKeyDigest, f.authorKeyDigest, 'AUTHOR_KEY_DIGEST');
  put(out, OFF.reportId, SIZE.reportId, f.reportId, 'REPORT_ID');
  put(out, OFF.reportIdMa, SIZE.reportIdMa, f.reportIdMa, 'REPORT_ID_MA');
  put(out, OFF.reportedTcb, SIZE.tcb, f.reportedTcb, 'REPORTED_TCB');
  if (f.version >= 3) {
    out[OFF.cpuidFamily] = f.cpuid.family;
    out[OFF.cpuidModel] = f.cpuid.model;
    out[OFF.cpuidStepping] = f.cpuid.stepping;
  }
  put(out, OFF.chipId, SIZE.chipId, f.chipId, 'CHIP_ID');
  put(out, OFF.committedTcb, SIZE.tcb, f.committedTcb, 'COMMITTED_TCB');
  writeVersion(out, f.currentVersion, OFF.currentMajor, OFF.currentMinor, OFF.currentBuild);
  writeVersion(out, f.committedVersion, OFF.committedMajor, OFF.committedMinor, OFF.committedBuild);
  put(out, OFF.launchTcb, SIZE.tcb, f.launchTcb, 'LAUNCH_TCB');
  if (f.version >= 5) {
    out.writeBigUInt64LE(f.launchMitVector, OFF.launchMitVector);
    out.writeBigUInt64LE(f.currentMitVector, OFF.currentMitVector);
  }
  return out;
}

function writeVersion(out: Buffer, v: FirmwareVersion, major: number, minor: number, build: number): void {
  out.writeUInt8(v.major, major);
  out.writeUInt8(v.minor, minor);
  out.writeUInt8(v.build, build);
}

/** Stores a P-384 (r, s) pair, big-endian 48 bytes each, as 72-byte little-endian fields at 0x2A0/0x2E8. */
export function writeSignature(report: Buffer, r: Uint8Array, s: Uint8Array): void {
  for (const [value, off] of [
    [r, OFF.signatureR],
    [s, OFF.signatureS],
  ] as const) {
    if (value.length !== SIZE.p384) throw new RangeError(`signature component must be ${SIZE.p384} bytes`);
    const le = Buffer.from(value).reverse();
    report.fill(0, off, off + SIZE.signatureComponent);
    le.copy(report, off);
  }
}

/** The bytes the firmware signs. */
export function signedPart(report: Buffer): Buffer {
  return report.subarray(0, SIGNED_LENGTH);
}
