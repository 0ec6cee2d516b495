import { AttestationError } from '../errors.js';
import { type GuestPolicy, type KeyInfo, type PlatformInfo, decodeKeyInfo, decodePlatformInfo, decodePolicy } from './fields.js';
import { MAX_VERSION, MIN_VERSION, OFF, REPORT_SIZE, SIGNED_LENGTH, SIZE, reservedRanges } from './layout.js';
import { type Cpuid, type Product, productFromCpuid } from './product.js';

export interface FirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

/** A parsed ATTESTATION_REPORT. Parsing does no cryptography; `verifySnpEvidence` does. */
export interface SnpReport {
  /** A private copy of the 1184 input bytes: later mutation of the caller's buffer cannot change it. */
  readonly raw: Buffer;
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly policyBits: GuestPolicy;
  readonly familyId: Buffer;
  readonly imageId: Buffer;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcbRaw: Buffer;
  readonly platformInfo: bigint;
  readonly platformInfoBits: PlatformInfo;
  readonly keyInfo: number;
  readonly keyInfoBits: KeyInfo;
  readonly reportData: Buffer;
  readonly measurement: Buffer;
  readonly hostData: Buffer;
  readonly idKeyDigest: Buffer;
  readonly authorKeyDigest: Buffer;
  readonly reportId: Buffer;
  readonly reportIdMa: Buffer;
  readonly reportedTcbRaw: Buffer;
  /** v3+ only; null for v1/v2, which carry no CPUID bytes. */
  readonly cpuid: Cpuid | null;
  /** Product from CPUID (v3+); null for v1/v2 or an unknown part. */
  readonly cpuidProduct: Product | null;
  readonly chipId: Buffer;
  readonly committedTcbRaw: Buffer;
  readonly currentVersion: FirmwareVersion;
  readonly committedVersion: FirmwareVersion;
  readonly launchTcbRaw: Buffer;
  /** v5 only. */
  readonly launchMitVector: bigint | null;
  readonly currentMitVector: bigint | null;
  /** Big-endian 48-byte R and S, ready for IEEE P1363 verification. */
  readonly signatureR: Buffer;
  readonly signatureS: Buffer;
  /** Non-fatal format violations: the report is still parsed so that every failed check can be reported. */
  readonly problems: readonly AttestationError[];
}

/**
 * Parses a 1184-byte SEV-SNP ATTESTATION_REPORT (versions 1 to 5; v1 shares the v2 layout).
 * Throws an AttestationError for input that cannot be a report (size, version); records every other
 * format violation in `problems`.
 */
export function parseReport(input: Uint8Array): SnpReport {
  if (input.length < REPORT_SIZE) {
    throw new AttestationError('ERR_SNP_REPORT_TRUNCATED', `attestation report is ${input.length} bytes; an SNP report is exactly ${REPORT_SIZE}`);
  }
  if (input.length > REPORT_SIZE) {
    throw new AttestationError('ERR_SNP_REPORT_OVERSIZED', `attestation report is ${input.length} bytes; an SNP report is exactly ${REPORT_SIZE} (is this an HCL report or a certificate table?)`);
  }
  const raw = Buffer.from(input);
  const version = raw.readUInt32LE(OFF.version);
  if (version < MIN_VERSION || version > MAX_VERSION) {
    throw new AttestationError('ERR_SNP_REPORT_VERSION', `report VERSION is ${version}; this verifier knows versions ${MIN_VERSION} to ${MAX_VERSION}`);
  }
  // Fields are views of `raw`, the private copy; nothing outside this module writes to them.
  const slice = (off: number, len: number): Buffer => raw.subarray(off, off + len);
  const policy = raw.readBigUInt64LE(OFF.policy);
  const platformInfo = raw.readBigUInt64LE(OFF.platformInfo);
  const keyInfo = raw.readUInt32LE(OFF.keyInfo);
  const cpuid = readCpuid(raw, version);
  const report = {
    raw,
    version,
    guestSvn: raw.readUInt32LE(OFF.guestSvn),
    policy,
    policyBits: decodePolicy(policy),
    familyId: slice(OFF.familyId, SIZE.familyId),
    imageId: slice(OFF.imageId, SIZE.imageId),
    vmpl: raw.readUInt32LE(OFF.vmpl),
    signatureAlgo: raw.readUInt32LE(OFF.signatureAlgo),
    currentTcbRaw: slice(OFF.currentTcb, SIZE.tcb),
    platformInfo,
    platformInfoBits: decodePlatformInfo(platformInfo),
    keyInfo,
    keyInfoBits: decodeKeyInfo(keyInfo),
    reportData: slice(OFF.reportData, SIZE.reportData),
    measurement: slice(OFF.measurement, SIZE.measurement),
    hostData: slice(OFF.hostData, SIZE.hostData),
    idKeyDigest: slice(OFF.idKeyDigest, SIZE.idKeyDigest),
    authorKeyDigest: slice(OFF.authorKeyDigest, SIZE.authorKeyDigest),
    reportId: slice(OFF.reportId, SIZE.reportId),
    reportIdMa: slice(OFF.reportIdMa, SIZE.reportIdMa),
    reportedTcbRaw: slice(OFF.reportedTcb, SIZE.tcb),
    cpuid,
    cpuidProduct: cpuid ? productFromCpuid(cpuid) : null,
    chipId: slice(OFF.chipId, SIZE.chipId),
    committedTcbRaw: slice(OFF.committedTcb, SIZE.tcb),
    currentVersion: readVersion(raw, OFF.currentMajor, OFF.currentMinor, OFF.currentBuild),
    committedVersion: readVersion(raw, OFF.committedMajor, OFF.committedMinor, OFF.committedBuild),
    launchTcbRaw: slice(OFF.launchTcb, SIZE.tcb),
    launchMitVector: version >= 5 ? raw.readBigUInt64LE(OFF.launchMitVector) : null,
    currentMitVector: version >= 5 ? raw.readBigUInt64LE(OFF.currentMitVector) : null,
    signatureR: readSignatureComponent(raw, OFF.signatureR),
    signatureS: readSignatureComponent(raw, OFF.signatureS),
    problems: [] as AttestationError[],
  };
  report.problems.push(...formatProblems(report));
  return report;
}

function readCpuid(raw: Buffer, version: number): Cpuid | null {
  if (version < 3) return null;
  return { family: raw[OFF.cpuidFamily]!, model: raw[OFF.cpuidModel]!, stepping: raw[OFF.cpuidStepping]! };
}

function readVersion(raw: Buffer, major: number, minor: number, build: number): FirmwareVersion {
  return { major: raw[major]!, minor: raw[minor]!, build: raw[build]! };
}

/** R and S are stored as 72-byte little-endian integers; return the low 48 bytes big-endian. */
function readSignatureComponent(raw: Buffer, off: number): Buffer {
  return Buffer.from(raw.subarray(off, off + SIZE.p384)).reverse();
}

function formatProblems(r: Omit<SnpReport, 'problems'>): AttestationError[] {
  const out: AttestationError[] = [];
  for (const [start, end] of reservedRanges(r.version)) {
    const first = r.raw.subarray(start, end).findIndex((b) => b !== 0);
    if (first >= 0) {
      out.push(new AttestationError('ERR_SNP_RESERVED_NONZERO', `reserved bytes 0x${hex3(start)}..0x${hex3(end - 1)} must be zero; byte 0x${hex3(start + first)} is not`));
    }
  }
  for (const off of [OFF.signatureR, OFF.signatureS]) {
    if (r.raw.subarray(off + SIZE.p384, off + SIZE.signatureComponent).some((b) => b !== 0)) {
      out.push(new AttestationError('ERR_SNP_SIGNATURE_ENCODING', `signature ${off === OFF.signatureR ? 'R' : 'S'} has non-zero bytes above 48 (offset 0x${hex3(off + SIZE.p384)})`));
    }
  }
  if (!r.policyBits.reserved17 || r.policyBits.reservedHigh !== 0n) {
    out.push(new AttestationError('ERR_SNP_POLICY_RESERVED', `guest POLICY 0x${r.policy.toString(16)}: bit 17 must be 1 and bits 26-63 zero`));
  }
  if (r.keyInfoBits.reservedHigh !== 0) {
    out.push(new AttestationError('ERR_SNP_KEY_INFO_RESERVED', `KEY_INFO 0x${r.keyInfo.toString(16)} has reserved bits 31:5 set`));
  }
  if (r.keyInfoBits.maskChipKey) {
    out.push(new AttestationError('ERR_SNP_MASK_CHIP_KEY', 'KEY_INFO.MASK_CHIP_KEY is 1: the firmware wrote zeroes instead of a signature; such a report proves nothing'));
  }
  if (r.keyInfoBits.signingKey !== 'VCEK' && r.keyInfoBits.signingKey !== 'VLEK') {
    out.push(new AttestationError('ERR_SNP_SIGNING_KEY', `KEY_INFO.SIGNING_KEY is ${r.keyInfoBits.signingKeyRaw} (${r.keyInfoBits.signingKey}); only VCEK (0) and VLEK (1) sign reports`));
  }
  if (r.signatureAlgo !== 1) {
    out.push(new AttestationError('ERR_SNP_SIGNATURE_ALGO', `SIGNATURE_ALGO is ${r.signatureAlgo}; only 1 (ECDSA P-384 with SHA-384) is defined`));
  }
  if (r.vmpl > 3) {
    out.push(new AttestationError('ERR_SNP_VMPL', `VMPL is ${r.vmpl}; SEV-SNP defines VMPL 0 to 3`));
  }
  if (r.cpuid && r.cpuidProduct === null) {
    out.push(new AttestationError('ERR_SNP_PRODUCT_UNKNOWN', `CPUID family 0x${r.cpuid.family.toString(16)} model 0x${r.cpuid.model.toString(16)} is not Milan, Genoa or Turin`));
  }
  return out;
}

function hex3(n: number): string {
  return n.toString(16).padStart(3, '0');
}

/** The bytes the firmware signed. */
export function signedBytes(report: SnpReport): Buffer {
  return report.raw.subarray(0, SIGNED_LENGTH);
}
