import { AttestationError } from '../errors.js';
import { HCL, HCL_HASH_TYPES, HCL_OFF, HCL_REPORT_TYPES, HCL_VERSIONS, type HclHashName, REQUEST_DATA_VERSIONS } from './hcl-layout.js';

/**
 * A parsed Azure HCL report: the paravisor's header, the SEV-SNP report it requested, and the runtime claims
 * whose hash the SNP report carries in REPORT_DATA. Parsing does no cryptography; `verifyHclEvidence` does.
 */
export interface HclReport {
  /** A private copy of the declared `report_size` bytes (NV padding dropped). */
  readonly raw: Buffer;
  readonly version: number;
  readonly reportSize: number;
  /** Unmeasured header fields: informative only, nothing signs them. */
  readonly requestType: number;
  readonly status: number;
  /** The 1184-byte SEV-SNP ATTESTATION_REPORT at 0x20. */
  readonly snpReport: Buffer;
  readonly requestDataVersion: number;
  readonly reportType: 'snp';
  readonly hashType: HclHashName;
  /** The runtime-claims JSON exactly as embedded: these bytes, not a re-serialisation, are what is hashed. */
  readonly runtimeClaims: Buffer;
}

/** True when the bytes start with the "HCLA" magic (how the CLI tells an HCL report from a raw SNP report). */
export function looksLikeHclReport(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32LE(0) === HCL.magic;
}

/**
 * Parses an HCL report as read from vTPM NV index 0x01400001 (snp-evidence.md §10, pitfall 28). Every size is
 * checked against the buffer before it is used; trailing NV padding must be zero. Throws an AttestationError
 * (ERR_HCL_*) for anything that is not a well-formed SNP HCL report.
 */
export function parseHclReport(input: Uint8Array): HclReport {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  checkOuterSize(buf);
  const version = buf.readUInt32LE(HCL_OFF.version);
  if (!HCL_VERSIONS.includes(version)) {
    throw new AttestationError('ERR_HCL_VERSION', `HCL header version is ${version}; this verifier knows ${HCL_VERSIONS.join(' and ')}`);
  }
  const requestDataVersion = buf.readUInt32LE(HCL_OFF.requestDataVersion);
  if (!REQUEST_DATA_VERSIONS.includes(requestDataVersion)) {
    throw new AttestationError('ERR_HCL_VERSION', `IGVM request data version is ${requestDataVersion}; this verifier knows ${REQUEST_DATA_VERSIONS.join(' and ')}`);
  }
  checkReportType(buf.readUInt32LE(HCL_OFF.reportType));
  const hashType = readHashType(buf.readUInt32LE(HCL_OFF.hashType));
  const { reportSize, claimsEnd } = checkDeclaredSizes(buf);
  const raw = Buffer.from(buf.subarray(0, reportSize));
  return {
    raw,
    version,
    reportSize,
    requestType: raw.readUInt32LE(HCL_OFF.requestType),
    status: raw.readUInt32LE(HCL_OFF.status),
    snpReport: raw.subarray(HCL.snpReportOffset, HCL.snpReportOffset + HCL.snpReportSize),
    requestDataVersion,
    reportType: 'snp',
    hashType,
    runtimeClaims: raw.subarray(HCL.runtimeClaimsOffset, claimsEnd),
  };
}

function checkOuterSize(buf: Buffer): void {
  if (buf.length > HCL.maxSize) {
    throw new AttestationError('ERR_HCL_OVERSIZED', `HCL report input is ${buf.length} bytes; at most ${HCL.maxSize} are accepted`);
  }
  if (buf.length < 4 || buf.readUInt32LE(0) !== HCL.magic) {
    throw new AttestationError('ERR_HCL_MAGIC', 'the input does not start with the "HCLA" magic of an Azure HCL report');
  }
  if (buf.length < HCL.runtimeClaimsOffset) {
    throw new AttestationError('ERR_HCL_TRUNCATED', `HCL report is ${buf.length} bytes; the header, SNP report and IGVM request data alone take ${HCL.runtimeClaimsOffset}`);
  }
}

function checkReportType(reportType: number): void {
  if (reportType === HCL_REPORT_TYPES.snp) return;
  const name = Object.entries(HCL_REPORT_TYPES).find(([, v]) => v === reportType)?.[0];
  const what = name === 'tdx' ? 'an Intel TDX report (TDX HCL evidence is not supported yet)' : name ? `a ${name.toUpperCase()} report` : `unknown report type ${reportType}`;
  throw new AttestationError('ERR_HCL_REPORT_TYPE', `the HCL report carries ${what}; only SEV-SNP (report type 2) is verified`);
}

function readHashType(value: number): HclHashName {
  const hash = HCL_HASH_TYPES[value];
  if (!hash) throw new AttestationError('ERR_HCL_HASH_TYPE', `report data hash type is ${value}; only 1 (SHA-256), 2 (SHA-384) and 3 (SHA-512) are defined`);
  return hash;
}

/**
 * variable_data_size bounds the JSON; data_size must be the 20-byte request header plus it, and report_size
 * the request data offset plus data_size (as in all three vectors). Bytes past report_size are NV padding.
 */
function checkDeclaredSizes(buf: Buffer): { reportSize: number; claimsEnd: number } {
  const variableDataSize = buf.readUInt32LE(HCL_OFF.variableDataSize);
  const claimsEnd = HCL.runtimeClaimsOffset + variableDataSize;
  if (claimsEnd > buf.length) {
    throw new AttestationError('ERR_HCL_TRUNCATED', `runtime claims declare ${variableDataSize} bytes at 0x4d4 but the HCL report ends at ${buf.length}`);
  }
  const dataSize = buf.readUInt32LE(HCL_OFF.dataSize);
  if (dataSize !== HCL.requestDataHeaderSize + variableDataSize) {
    throw new AttestationError('ERR_HCL_LAYOUT', `IGVM data_size is ${dataSize} but the 20-byte request header plus ${variableDataSize} bytes of claims is ${HCL.requestDataHeaderSize + variableDataSize}`);
  }
  const reportSize = buf.readUInt32LE(HCL_OFF.reportSize);
  if (reportSize !== HCL.requestDataOffset + dataSize) {
    throw new AttestationError('ERR_HCL_LAYOUT', `HCL report_size is ${reportSize} but the request data ends at ${HCL.requestDataOffset + dataSize}`);
  }
  const padding = buf.subarray(reportSize);
  const nonZero = padding.findIndex((b) => b !== 0);
  if (nonZero >= 0) {
    throw new AttestationError('ERR_HCL_OVERSIZED', `byte ${reportSize + nonZero} lies past the declared report_size ${reportSize} and is not zero padding`);
  }
  return { reportSize, claimsEnd };
}
