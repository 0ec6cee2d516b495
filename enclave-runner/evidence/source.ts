/** Where SEV-SNP evidence comes from, as the start-up sequence sees it. */

/** The report and the certificates that came with it (DER), as the firmware's extended request returns them. */
export interface SnpEvidence {
  /** The 1184-byte ATTESTATION_REPORT. */
  readonly report: Buffer;
  /** VCEK (or VLEK), ASK (or ASVK) and ARK from the certificate table; empty when the host supplied none. */
  readonly certificates: {
    readonly vcek?: Buffer;
    readonly vlek?: Buffer;
    readonly ask?: Buffer;
    readonly ark?: Buffer;
  };
}

/** One evidence source: asked for a report over 64 bytes of REPORT_DATA. */
export interface EvidenceSource {
  readonly kind: 'configfs-tsm' | 'simulated' | 'azure-vtpm';
  /** What it reads (a path), for logs and /status. */
  readonly location: string;
  /** True only for the simulator's tree: such evidence proves nothing about real hardware. */
  readonly simulated: boolean;
  getReport(reportData: Buffer): Promise<SnpEvidence>;
}
