import { toPem } from '../../attestation/snp/certificate.js';
import type { SnpEvidence } from '../evidence/source.js';

/**
 * What `GET /attestation` answers: the evidence this runner attested with and the token it received, so that
 * a client can check them itself before it sends anything (`zt4ai runner verify`). `report` is the SNP report
 * (base64url), `certificates` the VCEK (or VLEK), ASK and ARK as one PEM chain (empty when the host supplied
 * none), `runtimeData` the exact bytes REPORT_DATA commits to (base64url), `token` the attestation service's JWT.
 * None of it is secret: the token names the TEE's public key, and a release needs the TEE's private key.
 */
export interface RunnerAttestation {
  readonly report: string;
  readonly certificates: string;
  readonly runtimeData: string;
  readonly token: string;
}

export function attestationRecord(evidence: SnpEvidence, runtimeData: Buffer, token: string): RunnerAttestation {
  const c = evidence.certificates;
  const chain = [c.vcek ?? c.vlek, c.ask, c.ark].filter((d): d is Buffer => d !== undefined).map(toPem).join('');
  return { report: evidence.report.toString('base64url'), certificates: chain, runtimeData: runtimeData.toString('base64url'), token };
}
