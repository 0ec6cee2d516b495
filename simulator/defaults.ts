import { createHash } from 'node:crypto';
import type { Cpuid, Product } from '../attestation/snp/product.js';
import type { FirmwareVersion } from '../attestation/snp/report.js';
import type { Tcb } from '../attestation/snp/tcb.js';

/** What a simulated part of each product looks like unless told otherwise; values follow the real vectors. */
export interface ProductProfile {
  readonly cpuid: Cpuid;
  readonly tcb: Tcb;
  readonly firmware: FirmwareVersion;
  /** Report version this firmware emits by default (observed: Milan 1.55.29 emits v3, Genoa/Turin v5). */
  readonly reportVersion: number;
  /** KDS productName on VCEKs: Milan VCEKs say "Milan-B0" whatever the stepping; VLEKs carry no stepping. */
  readonly vcekProductName: string;
  readonly structVersion: number;
}

export const PRODUCT_PROFILES: Readonly<Record<Product, ProductProfile>> = {
  Milan: {
    cpuid: { family: 0x19, model: 0x01, stepping: 1 },
    tcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
    firmware: { major: 1, minor: 55, build: 29 },
    reportVersion: 3,
    vcekProductName: 'Milan-B0',
    structVersion: 0,
  },
  Genoa: {
    cpuid: { family: 0x19, model: 0x11, stepping: 1 },
    tcb: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
    firmware: { major: 1, minor: 55, build: 43 },
    reportVersion: 5,
    vcekProductName: 'Genoa',
    structVersion: 0,
  },
  Turin: {
    cpuid: { family: 0x1a, model: 0x02, stepping: 1 },
    tcb: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 0x47 },
    firmware: { major: 1, minor: 55, build: 65 },
    reportVersion: 5,
    vcekProductName: 'Turin',
    structVersion: 1,
  },
};

/** Guest policy 0x30000: SMT allowed plus the must-be-one bit 17, the most common real value. */
export const DEFAULT_POLICY = 0x30000n;
/** cspID of simulated VLEKs (real ones name the cloud, e.g. "CN=cc-us-east-2.amazonaws.com"). */
export const DEFAULT_CSP_ID = 'CN=zt4ai-sim';

/** Launch digest of the simulated guest unless one is given: SHA-384 of a fixed label, stable across runs. */
export const DEFAULT_MEASUREMENT: Buffer = createHash('sha384').update('zt4ai simulated guest image').digest();

/** PLATFORM_INFO: SMT_EN | ECC_EN | ALIAS_CHECK_COMPLETE for v3+ (0x25, observed); v1/v2 reports show 0x1. */
export function defaultPlatformInfo(version: number): bigint {
  return version >= 3 ? 0x25n : 0x1n;
}
