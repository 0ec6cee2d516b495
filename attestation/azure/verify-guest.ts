import { type KeyObject, type X509Certificate, createHash, timingSafeEqual } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { OFF, SIZE } from '../snp/layout.js';
import { type SnpVerdict, type VerifyOptions, verifySnpReport } from '../snp/verify.js';
import type { VerifyWarning } from '../snp/warnings.js';
import { checkAkCertificate } from './ak-cert.js';
import { type AzureGuestClaims, GUEST_RUNTIME_DATA_PAYLOAD, buildAzureGuestClaims } from './guest-claims.js';
import type { AzureGuestRequest } from './guest-request.js';
import { AZURE_GUEST_PCRS, verifyGuestTpm } from './guest-tpm.js';
import { type RuntimeClaims, parseRuntimeClaims } from './runtime-claims.js';
import { parseTcgLog, replayTcgLog, secureBootEnabled } from './tcg-log.js';
import { rsaJwkThumbprint } from './tpm-keys.js';
import type { SelectedPcr } from './tpm-pcrs.js';
import { collect } from './collect.js';

export interface AzureGuestVerifyOptions extends VerifyOptions {
  /** Certificates that may issue the vTPM's AK certificate (Microsoft's vTPM CAs); without them it is not judged. */
  readonly akCertAnchors?: readonly X509Certificate[];
  /** PCRs the quote must cover and the ephemeral key must be bound to; default 0-7, as Microsoft's library. */
  readonly requiredPcrs?: readonly number[];
}

export interface AzureGuestVerdict {
  readonly ok: boolean;
  readonly snp: SnpVerdict;
  /** Trust them only when `ok`. */
  readonly runtimeClaims: RuntimeClaims | null;
  /** The vTPM ephemeral key to encrypt the answer to; present only when `ok`. */
  readonly encryptionKey: KeyObject | null;
  readonly claims: AzureGuestClaims | null;
  readonly warnings: readonly VerifyWarning[];
  readonly errors: readonly AttestationError[];
}

/**
 * Verifies MAA AzureGuest evidence (parseAttestationInfo's result) and returns every failed check:
 *  1. the SNP report verifies (signature, AMD chain, TCB, chip) and was requested at VMPL 0;
 *  2. REPORT_DATA = SHA-256(RunTimeData) ‖ zeros, so the runtime claims and the HCLAkPub in them are the TEE's;
 *  3. the TPM half with that AK (verifyGuestTpm): AikPub, quote, certified PCR-bound ephemeral key;
 *  4. the AK certificate certifies the AK (and chains to `akCertAnchors` when given);
 *  5. a TCG log, when sent, replays to the quoted SHA-256 PCRs (its SecureBoot variable gives `secureboot`).
 * `ok` needs all of them; the AK is trusted only through 1 and 2.
 */
export function verifyAzureGuest(request: AzureGuestRequest, options: AzureGuestVerifyOptions = {}): AzureGuestVerdict {
  const snp = verifySnpReport(request.isolation.snpReport, options);
  const errors: AttestationError[] = [...snp.errors];
  const warnings: VerifyWarning[] = [...snp.warnings];
  if (snp.report && snp.report.vmpl !== 0) errors.push(new AttestationError('ERR_HCL_VMPL', `the SNP report was requested at VMPL ${snp.report.vmpl}; the Azure paravisor requests it at VMPL 0`));
  if (!runtimeDataBound(request)) {
    errors.push(new AttestationError('ERR_HCL_CLAIMS_NOT_BOUND', 'REPORT_DATA is not SHA-256(IsolationInfo.Evidence.RunTimeData) followed by zeros: the runtime claims (and the AK in them) were changed or swapped'));
  }
  const runtime = collect(errors, () => parseRuntimeClaims(request.isolation.runtimeData));
  if (!runtime) return { ok: false, snp, runtimeClaims: null, encryptionKey: null, claims: null, warnings, errors };
  const required = options.requiredPcrs ?? AZURE_GUEST_PCRS;
  const tpm = verifyGuestTpm(request.tpm, runtime.ak.key, required);
  errors.push(...tpm.errors);
  const akCert = checkAkCertificate(request.tpm.akCert, runtime.ak.key, options.akCertAnchors, options.now ?? new Date());
  errors.push(...akCert.errors);
  warnings.push(...akCert.warnings);
  const log = checkTcgLog(request.tcgLog, tpm.quote?.ok ? tpm.quote.pcrs : [], errors, warnings);
  const ok = errors.length === 0 && snp.ok && tpm.encryptionKey !== null && tpm.quote?.ok === true;
  const claims =
    ok && snp.claims && tpm.encryptionKey && tpm.quote
      ? buildAzureGuestClaims({
          request,
          snp: snp.claims,
          runtime,
          akThumbprint: rsaJwkThumbprint(runtime.ak.key),
          encryptionKey: tpm.encryptionKey,
          pcrs: tpm.quote.pcrs,
          akCertVerified: akCert.verified,
          secureBoot: log.secureBoot,
          logVerified: log.verified,
          runtimeDataBound: userDataBindsPayload(request, runtime),
        })
      : null;
  return { ok, snp, runtimeClaims: runtime, encryptionKey: ok ? (tpm.encryptionKey?.key ?? null) : null, claims, warnings, errors };
}

/** user-data (SNP-bound through the runtime claims) = SHA-256(ClientPayload zt4ai-runtime-data) ‖ zeros. */
function userDataBindsPayload(request: AzureGuestRequest, runtime: RuntimeClaims): boolean {
  const sent = request.clientPayload[GUEST_RUNTIME_DATA_PAYLOAD];
  const userData = runtime.userData;
  if (sent === undefined || !userData || userData.length !== 64) return false;
  const expected = Buffer.alloc(64);
  // Node's base64 decoder reads the base64url alphabet too; parseAttestationInfo has checked the value.
  createHash('sha256').update(Buffer.from(sent, 'base64')).digest().copy(expected);
  return timingSafeEqual(expected, userData);
}

function runtimeDataBound(request: AzureGuestRequest): boolean {
  const report = request.isolation.snpReport;
  if (report.length < OFF.reportData + SIZE.reportData) return false;
  const expected = Buffer.alloc(SIZE.reportData);
  createHash('sha256').update(request.isolation.runtimeData).digest().copy(expected);
  return timingSafeEqual(expected, report.subarray(OFF.reportData, OFF.reportData + SIZE.reportData));
}

/**
 * The TCG log must reproduce every quoted SHA-256 PCR; then its SecureBoot variable is worth reporting. No log
 * is a warning, not a failure: Microsoft's library sends none when the kernel exposes none.
 */
function checkTcgLog(bytes: Buffer, quoted: readonly SelectedPcr[], errors: AttestationError[], warnings: VerifyWarning[]): { verified: boolean; secureBoot: boolean | null } {
  if (bytes.length === 0) {
    warnings.push({ code: 'WARN_TCG_LOG_MISSING', message: 'no TCG event log was sent: the quoted PCRs are attested, but not what was measured into them' });
    return { verified: false, secureBoot: null };
  }
  const log = collect(errors, () => parseTcgLog(bytes));
  if (!log || quoted.length === 0) return { verified: false, secureBoot: null };
  const replayed = collect(errors, () => replayTcgLog(log, 'sha256'));
  if (!replayed) return { verified: false, secureBoot: null };
  const differ = quoted.filter((p) => p.hash === 'sha256' && !p.value.equals(replayed.get(p.index) ?? Buffer.alloc(32)));
  if (differ.length > 0) {
    errors.push(new AttestationError('ERR_TCG_LOG_REPLAY', `the TCG log does not replay to the quoted value of PCR ${differ.map((p) => p.index).join(', ')}: the log was altered or belongs to another boot`));
    return { verified: false, secureBoot: null };
  }
  try {
    return { verified: true, secureBoot: secureBootEnabled(log) };
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    errors.push(e);
    return { verified: false, secureBoot: null };
  }
}
