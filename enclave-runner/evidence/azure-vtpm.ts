import { RunnerError } from '../errors.js';
import type { EvidenceSource, SnpEvidence } from './source.js';

/** The vTPM resource manager of an Azure confidential VM: the HCL report (with the SNP report inside) lives in its NV index. */
export const AZURE_VTPM_DEVICE = '/dev/tpmrm0';

/**
 * Placeholder for Azure confidential VMs, where the guest cannot ask the firmware directly: the paravisor
 * puts an HCL report (SNP report + runtime claims with the vTPM's attestation key) in a vTPM NV index, and
 * freshness comes from a TPM quote. The parsers live in attestation/azure/; reading the vTPM and MAA's
 * request shape for it come with the Azure issue. Until then this source refuses, naming what is missing.
 */
export class AzureVtpmSource implements EvidenceSource {
  readonly kind = 'azure-vtpm' as const;
  readonly location = AZURE_VTPM_DEVICE;
  readonly simulated = false;

  async getReport(_reportData: Buffer): Promise<SnpEvidence> {
    throw new RunnerError('ERR_RUNNER_EVIDENCE_PENDING', `found the Azure vTPM (${AZURE_VTPM_DEVICE}), but reading the HCL report from it is not implemented yet (it comes with the Azure issue); on a plain SEV-SNP guest use configfs-tsm`);
  }
}
