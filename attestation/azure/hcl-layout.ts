import { REPORT_SIZE } from '../snp/layout.js';

/**
 * Layout of the Azure HCL ("paravisor") attestation report read from vTPM NV index 0x01400001. All integers
 * are little-endian. Sources: snp-evidence.md §10, azure-protocols.md §1.6 (CVM HwVmReport.h), pitfall 28
 * (the runtime-data header sits at 0x4C0..0x4D3, the JSON at 0x4D4), openvmm's CvmAttestationReport; checked
 * against the three real vectors in shared/vectors/snp/trustee/az-snp-vtpm/.
 */
export const HCL = {
  /** "HCLA" read as a little-endian u32. */
  magic: 0x414c4348,
  /** Header: magic, version, report_size, request_type, status, reserved[3]. */
  headerSize: 0x20,
  snpReportOffset: 0x20,
  snpReportSize: REPORT_SIZE,
  /** IGVM_REQUEST_DATA: data_size, version, report_type, hash_type, variable_data_size, then the JSON. */
  requestDataOffset: 0x4c0,
  requestDataHeaderSize: 20,
  runtimeClaimsOffset: 0x4d4,
  /** The NV index holds 2600 bytes; anything near 64 KiB is not an HCL report. */
  maxSize: 64 * 1024,
} as const;

export const HCL_OFF = {
  version: 0x04,
  reportSize: 0x08,
  requestType: 0x0c,
  status: 0x10,
  dataSize: 0x4c0,
  requestDataVersion: 0x4c4,
  reportType: 0x4c8,
  hashType: 0x4cc,
  variableDataSize: 0x4d0,
} as const;

/** Header versions seen: 1 (older paravisors, milan-report-v2/v3) and 2 (genoa-report-v3, openvmm current). */
export const HCL_VERSIONS: readonly number[] = [1, 2];
/** IGVM request data versions: 1 in every vector, 2 is openvmm's CVM_VERSION_CURRENT. */
export const REQUEST_DATA_VERSIONS: readonly number[] = [1, 2];

/** IGVM_REPORT_TYPE / openvmm CvmReportType. */
export const HCL_REPORT_TYPES = { invalid: 0, vbs: 1, snp: 2, tvm: 3, tdx: 4 } as const;

/** IGVM_REQUEST_TYPE / openvmm CvmRequestType; the header is unmeasured, so this is informative only. */
export const HCL_REQUEST_TYPES = { invalid: 0, keyRelease: 1, akCert: 2, wrappedKey: 3 } as const;

export type HclHashName = 'sha256' | 'sha384' | 'sha512';

/** IGVM_HASH_TYPE: the hash of the runtime claims that fills the start of REPORT_DATA. */
export const HCL_HASH_TYPES: Readonly<Record<number, HclHashName>> = { 1: 'sha256', 2: 'sha384', 3: 'sha512' };

export const HASH_LENGTH: Readonly<Record<HclHashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };
