import { type SnpEvidence, certificateChainPem } from '../evidence/source.js';

/**
 * What `GET /attestation` answers: the evidence this runner attested with and the token it received, so that
 * a client can check them itself before it sends anything (`zt4ai runner verify`). `kind` says which evidence:
 * `sevsnp` (configfs-tsm, the simulator) or `azure-vtpm` (an Azure confidential VM). None of it is secret: the
 * token names the TEE's public key, and a release needs the TEE's private key.
 */
export type RunnerAttestation = SnpRunnerAttestation | AzureVtpmRunnerAttestation | AzureGuestRunnerAttestation;

/**
 * SEV-SNP evidence: `report` is the SNP report (base64url), whose REPORT_DATA is SHA-256(runtime data) ‖ zeros,
 * `certificates` the VCEK (or VLEK), ASK and ARK as one PEM chain (empty when the host supplied none),
 * `runtimeData` the exact bytes REPORT_DATA commits to (base64url), `token` the attestation service's JWT.
 */
export interface SnpRunnerAttestation {
  readonly kind: 'sevsnp';
  readonly report: string;
  readonly certificates: string;
  readonly runtimeData: string;
  readonly token: string;
}

/**
 * Azure vTPM evidence, as sent to the KRS's `POST /attest/AzureCvm`: `hclReport` NV index 0x01400001 as read
 * (base64url; the SNP report inside, whose REPORT_DATA is the hash of the HCL runtime claims with the AK),
 * `certificates` the VCEK chain (PEM), `quote` TPM2_Quote by that AK (TPMS_ATTEST and TPMT_SIGNATURE, base64url),
 * `pcrs` the quoted SHA-256 PCR values (`{"<index>": "<hex>"}`), `challenge` the KRS's nonce exactly as issued,
 * `runtimeData` the runner's runtime data (base64url): the quote's extraData is
 * quoteBindingNonce(challenge, runtime data). `token` the attestation service's JWT.
 */
export interface AzureVtpmRunnerAttestation {
  readonly kind: 'azure-vtpm';
  readonly hclReport: string;
  readonly certificates: string;
  readonly quote: { readonly message: string; readonly signature: string };
  readonly pcrs: Readonly<Record<string, string>>;
  readonly challenge: string;
  readonly runtimeData: string;
  readonly token: string;
}

/**
 * MAA AzureGuest evidence, as sent to `POST /attest/AzureGuest`: `attestationInfo` base64url of the
 * AttestationInfo JSON (SNP report, runtime claims, TPM quote, certified ephemeral key, AK certificate, TCG
 * log), whose ClientPayload carries `runtimeData` as `zt4ai-runtime-data`; `token` the attestation service's
 * JWT as decrypted by the vTPM (its x-ms-runtime names the ephemeral key and repeats the ClientPayload).
 */
export interface AzureGuestRunnerAttestation {
  readonly kind: 'azure-guest';
  readonly attestationInfo: string;
  readonly runtimeData: string;
  readonly token: string;
}

export function attestationRecord(evidence: SnpEvidence, runtimeData: Buffer, token: string): RunnerAttestation {
  const chain = certificateChainPem(evidence.certificates);
  if (evidence.azureGuest) {
    return { kind: 'azure-guest', attestationInfo: Buffer.from(JSON.stringify(evidence.azureGuest.attestationInfo), 'utf8').toString('base64url'), runtimeData: runtimeData.toString('base64url'), token };
  }
  const az = evidence.azure;
  if (az) {
    return {
      kind: 'azure-vtpm',
      hclReport: az.hclReport.toString('base64url'),
      certificates: chain,
      quote: { message: az.quote.message.toString('base64url'), signature: az.quote.signature.toString('base64url') },
      pcrs: { ...az.pcrs },
      challenge: az.challenge,
      runtimeData: runtimeData.toString('base64url'),
      token,
    };
  }
  return { kind: 'sevsnp', report: evidence.report.toString('base64url'), certificates: chain, runtimeData: runtimeData.toString('base64url'), token };
}
