import { HCL, HCL_HASH_TYPES, HCL_OFF, HCL_REPORT_TYPES, HCL_REQUEST_TYPES, type HclHashName } from '../../attestation/azure/hcl-layout.js';

export interface HclFields {
  /** The 1184-byte signed SNP report. */
  readonly snpReport: Uint8Array;
  /** The runtime-claims JSON bytes whose hash the SNP report's REPORT_DATA carries. */
  readonly runtimeClaims: Uint8Array;
  /** Header version (default 2, as current paravisors write; the Milan vectors carry 1). */
  readonly version?: number;
  /** IGVM request data version (default 1, as in every real vector). */
  readonly requestDataVersion?: number;
  readonly requestType?: number;
  readonly hashType?: HclHashName;
  /** Report type (default 2, SNP); other values exist to test refusals. */
  readonly reportType?: number;
  /** Zero-pad to this many bytes, as the 2600-byte NV index reads (default: no padding). */
  readonly padTo?: number;
}

/** Lays out an HCL report exactly as attestation/azure/hcl.ts reads it (all integers little-endian). */
export function encodeHclReport(f: HclFields): Buffer {
  if (f.snpReport.length !== HCL.snpReportSize) throw new RangeError(`SNP report is ${f.snpReport.length} bytes; expected ${HCL.snpReportSize}`);
  const reportSize = HCL.runtimeClaimsOffset + f.runtimeClaims.length;
  const buf = Buffer.alloc(Math.max(reportSize, f.padTo ?? 0));
  buf.writeUInt32LE(HCL.magic, 0);
  buf.writeUInt32LE(f.version ?? 2, HCL_OFF.version);
  buf.writeUInt32LE(reportSize, HCL_OFF.reportSize);
  buf.writeUInt32LE(f.requestType ?? HCL_REQUEST_TYPES.akCert, HCL_OFF.requestType);
  buf.set(f.snpReport, HCL.snpReportOffset);
  buf.writeUInt32LE(HCL.requestDataHeaderSize + f.runtimeClaims.length, HCL_OFF.dataSize);
  buf.writeUInt32LE(f.requestDataVersion ?? 1, HCL_OFF.requestDataVersion);
  buf.writeUInt32LE(f.reportType ?? HCL_REPORT_TYPES.snp, HCL_OFF.reportType);
  buf.writeUInt32LE(hashTypeValue(f.hashType ?? 'sha256'), HCL_OFF.hashType);
  buf.writeUInt32LE(f.runtimeClaims.length, HCL_OFF.variableDataSize);
  buf.set(f.runtimeClaims, HCL.runtimeClaimsOffset);
  return buf;
}

function hashTypeValue(hash: HclHashName): number {
  return Number(Object.entries(HCL_HASH_TYPES).find(([, h]) => h === hash)![0]);
}
