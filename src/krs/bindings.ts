import { createHash, timingSafeEqual } from 'node:crypto';
import type { SnpReport } from '../../attestation/snp/report.js';
import type { DecodedData } from './attest-request.js';
import type { KrsErrorCode, KrsErrorDetail } from './errors.js';

export interface BindingFailure extends KrsErrorDetail {
  readonly code: Extract<KrsErrorCode, 'ERR_RUNTIME_DATA_NOT_BOUND' | 'ERR_INIT_TIME_DATA_NOT_BOUND'>;
}

/**
 * The data the token vouches for must be the data the TEE committed to (azure-protocols.md §1.2, VERIFIED
 * on a real report):
 *  1. REPORT_DATA[0..32] = SHA-256(runtimeData bytes), REPORT_DATA[32..64] all zero (what MAA's real
 *     request carries; anything there would be unvouched data a relying party might read as bound);
 *  2. when initTimeData is given, HOST_DATA = SHA-256(initTimeData bytes).
 * Returns every failure, empty when bound.
 */
export function checkBindings(report: SnpReport, runtime: DecodedData, initTime: DecodedData | null): BindingFailure[] {
  const failures: BindingFailure[] = [];
  const runtimeHash = sha256(runtime.bytes);
  if (!timingSafeEqual(report.reportData.subarray(0, 32), runtimeHash)) {
    failures.push({ code: 'ERR_RUNTIME_DATA_NOT_BOUND', message: 'REPORT_DATA[0..32] is not the SHA-256 of the runtimeData bytes' });
  }
  if (!report.reportData.subarray(32, 64).every((b) => b === 0)) {
    failures.push({ code: 'ERR_RUNTIME_DATA_NOT_BOUND', message: 'REPORT_DATA[32..64] is not zero' });
  }
  if (initTime && !timingSafeEqual(report.hostData, sha256(initTime.bytes))) {
    failures.push({ code: 'ERR_INIT_TIME_DATA_NOT_BOUND', message: 'HOST_DATA is not the SHA-256 of the initTimeData bytes' });
  }
  return failures;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
