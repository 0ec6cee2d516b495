import { toPem } from '../../attestation/snp/certificate.js';
import type { AzureGuestEvidence, EphemeralTeeKey, GuestEvidenceRequest } from './azure-guest.js';

/** Where SEV-SNP evidence comes from, as the start-up sequence sees it. */

/** The report and the certificates that came with it (DER), as the firmware's extended request returns them. */
export interface SnpEvidence {
  /** The 1184-byte ATTESTATION_REPORT (on an Azure confidential VM: the one inside the HCL report). */
  readonly report: Buffer;
  /** VCEK (or VLEK), ASK (or ASVK) and ARK from the certificate table (or THIM / KDS); empty when the host supplied none. */
  readonly certificates: {
    readonly vcek?: Buffer;
    readonly vlek?: Buffer;
    readonly ask?: Buffer;
    readonly ark?: Buffer;
  };
  /** Present only for Azure vTPM evidence: what `POST /attest/AzureCvm` needs besides the certificates. */
  readonly azure?: AzureVtpmEvidence;
  /** Present only for MAA's AzureGuest flow (an Azure vTPM attesting to MAA): the request, and how to open the answer. */
  readonly azureGuest?: AzureGuestEvidence;
}

/**
 * Azure confidential-VM evidence: on such a VM REPORT_DATA is the hash of the paravisor's runtime claims, so
 * freshness and the binding to the runner's runtime data come from a TPM quote by the AK those claims carry.
 */
export interface AzureVtpmEvidence {
  /** NV index 0x01400001 as read (the HCL report, zero padding included). */
  readonly hclReport: Buffer;
  /** TPM2_Quote by the AK at 0x81000003: TPMS_ATTEST and TPMT_SIGNATURE. */
  readonly quote: { readonly message: Buffer; readonly signature: Buffer };
  /** The values of the quoted PCRs (SHA-256 bank), `{"<index>": "<hex>"}`. */
  readonly pcrs: Readonly<Record<string, string>>;
  /** The attestation service's challenge the quote binds (with the runtime data), exactly as issued. */
  readonly challenge: string;
}

/** What the evidence is asked to bind besides REPORT_DATA: the runtime data itself and the service's challenge. */
export interface EvidenceBinding {
  /** The exact runtime-data bytes whose SHA-256 is REPORT_DATA. */
  readonly runtimeData: Buffer;
  /** The attestation service's challenge; null when the service has none (MAA). */
  readonly challenge: string | null;
}

/** One evidence source: asked for a report over 64 bytes of REPORT_DATA. */
export interface EvidenceSource {
  readonly kind: 'configfs-tsm' | 'simulated' | 'azure-vtpm';
  /** What it reads (a path, or the TPM's TCTI), for logs and /status. */
  readonly location: string;
  /** True only for the simulator's tree: such evidence proves nothing about real hardware. */
  readonly simulated: boolean;
  /**
   * True when the evidence binds the runtime data only through a quote over the attestation service's
   * challenge (the Azure vTPM): a service that issues no challenge cannot attest it.
   */
  readonly needsChallenge: boolean;
  /**
   * A report over `reportData` (= SHA-256(runtime data) ‖ 32 zero bytes). configfs-tsm puts it in REPORT_DATA;
   * the Azure vTPM writes it as user data and binds `binding` through the TPM quote, which it needs.
   */
  getReport(reportData: Buffer, binding?: EvidenceBinding): Promise<SnpEvidence>;
  /**
   * Present on the Azure vTPM only: MAA's AzureGuest evidence over the runtime data (its hash as user data; the
   * runtime data itself in ClientPayload), and the vTPM's ephemeral key that the answer and a release are
   * encrypted to. The runtime data must name that key, so `request.runtimeDataFor` builds it from the key.
   */
  guestEvidence?(request: GuestEvidenceRequest): Promise<{ evidence: SnpEvidence; key: EphemeralTeeKey; runtimeData: Buffer }>;
}

/** VCEK (or VLEK), ASK and ARK as one PEM chain, leaf first; empty when the evidence came without certificates. */
export function certificateChainPem(c: SnpEvidence['certificates']): string {
  return [c.vcek ?? c.vlek, c.ask, c.ark].filter((d): d is Buffer => d !== undefined).map(toPem).join('');
}
