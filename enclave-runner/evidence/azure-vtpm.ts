import type { Dispatcher } from 'undici';
import { quoteBindingNonce } from '../../attestation/azure/index.js';
import { RunnerError } from '../errors.js';
import { type EphemeralTeeKey, type GuestEvidenceRequest, collectGuestEvidence } from './azure-guest.js';
import type { EvidenceBinding, EvidenceSource, SnpEvidence } from './source.js';
import { HCL_REPORT_NV_INDEX, type PcrSelection, type TpmDevice, USER_DATA_NV_INDEX, USER_DATA_SIZE } from './tpm-device.js';
import { DEFAULT_TCTI, Tpm2ToolsDevice } from './tpm2-tools.js';
import { type VcekChain, type VcekChainOptions, fetchVcekChain } from './vcek-chain.js';
import { readHcl, verifiedQuote } from './vtpm-reads.js';

/** The vTPM resource manager of an Azure confidential VM: the HCL report (with the SNP report inside) lives in its NV index. */
export const AZURE_VTPM_DEVICE = '/dev/tpmrm0';

const SOFTWARE_TPM_TCTI = /^(?:swtpm|mssim|libtpms)(?::|$)/;

/** The PCRs quoted: the whole SHA-256 bank, as Azure's own attestation client and trustee's az-snp-vtpm attester do. */
export const QUOTED_PCRS: PcrSelection = { bank: 'sha256', pcrs: Array.from({ length: 24 }, (_, i) => i) };

export interface AzureVtpmOptions {
  /** The TPM; default tpm2-tools on `tcti`. */
  readonly device?: TpmDevice;
  /** The TCTI for tpm2-tools (default `device:/dev/tpmrm0`); ignored when `device` is given. */
  readonly tcti?: string;
  /** IMDS base URL for THIM (default http://169.254.169.254). */
  readonly thimUrl?: string;
  /** AMD KDS base URL for the fallback (default https://kdsintf.amd.com). */
  readonly kdsUrl?: string;
  /** Per TPM command and per HTTP request. */
  readonly timeoutMs?: number;
  readonly dispatcher?: Dispatcher;
  /** The TCG event log for AzureGuest (default /sys/kernel/security/tpm0/binary_bios_measurements). */
  readonly tcgLogPath?: string;
}

/**
 * Evidence on an Azure confidential VM, where the guest cannot ask the firmware: the paravisor puts an HCL
 * report (the SNP report, with REPORT_DATA = hash of its runtime claims carrying the vTPM's AK) in NV index
 * 0x01400001, and freshness comes from a TPM quote by that AK.
 *  1. check that NV 0x01400001 holds an HCL report (else this is no Azure vTPM, and nothing is written to it),
 *     then write the 64 bytes of REPORT_DATA (SHA-256 of the runtime data ‖ zeros) to NV 0x01400002 as user
 *     data (the paravisor then refreshes the HCL report, whose claims carry it as `user-data`);
 *  2. read the HCL report from NV 0x01400001; its runtime claims must be bound by REPORT_DATA and carry the AK;
 *  3. TPM2_Quote with the AK at 0x81000003 over the SHA-256 PCRs, qualified by
 *     quoteBindingNonce(challenge, runtime data), which binds the attestation service's challenge and the
 *     runner's runtime data (its TEE key) into one AK signature; the quote is checked here with the AK (a PCR
 *     that changed between the quote and its read-back is retried once);
 *  4. the VCEK chain from THIM, else AMD KDS.
 * The attestation service verifies all of it again (POST /attest/AzureCvm); this side only fails early with a
 * clearer reason.
 */
export class AzureVtpmSource implements EvidenceSource {
  readonly kind = 'azure-vtpm' as const;
  readonly location: string;
  /** A TCTI that reaches a software TPM directly (swtpm, mssim, libtpms) is a simulation, said in logs and /status. */
  readonly simulated: boolean;
  readonly needsChallenge = true;
  readonly #device: TpmDevice;
  readonly #options: AzureVtpmOptions;
  /** Where the VCEK chain comes from: THIM, KDS, their timeout and connection pool. */
  readonly #chain: VcekChainOptions;
  /** Where the last VCEK chain came from (for logs and tests). */
  lastChain: Pick<VcekChain, 'source' | 'thimProblem'> | null = null;

  constructor(options: AzureVtpmOptions = {}) {
    this.#options = options;
    this.#chain = {
      ...(options.thimUrl ? { thimUrl: options.thimUrl } : {}),
      ...(options.kdsUrl ? { kdsUrl: options.kdsUrl } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    };
    this.#device = options.device ?? new Tpm2ToolsDevice({ tcti: options.tcti ?? DEFAULT_TCTI, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
    this.location = this.#device.location;
    this.simulated = SOFTWARE_TPM_TCTI.test(this.location);
  }

  async getReport(reportData: Buffer, binding?: EvidenceBinding): Promise<SnpEvidence> {
    if (reportData.length !== USER_DATA_SIZE) throw new RangeError('REPORT_DATA is exactly 64 bytes');
    // The start-up sequence refuses a service without challenges before asking (needsChallenge).
    const challenge = binding?.challenge;
    if (!binding || !challenge) throw new RunnerError('ERR_RUNNER_INTERNAL', 'the Azure vTPM evidence source needs the runtime data and the challenge its quote binds');
    // First make sure this is an Azure vTPM (the paravisor's HCL report is there): on any other TPM the runner
    // must not define NV indices. Then the user data, after which the paravisor refreshes the report.
    await this.#device.nvRead(HCL_REPORT_NV_INDEX);
    await this.#device.nvWrite(USER_DATA_NV_INDEX, reportData);
    const hclBytes = await this.#device.nvRead(HCL_REPORT_NV_INDEX);
    const { hcl, ak } = readHcl(hclBytes);
    const nonce = quoteBindingNonce(challenge, binding.runtimeData);
    const quote = await verifiedQuote(this.#device, ak, nonce, QUOTED_PCRS);
    const chain = await fetchVcekChain(hcl.snpReport, this.#chain);
    this.lastChain = { source: chain.source, ...(chain.thimProblem ? { thimProblem: chain.thimProblem } : {}) };
    return {
      report: hcl.snpReport,
      certificates: chain.certificates,
      azure: {
        hclReport: hclBytes,
        quote: { message: quote.message, signature: quote.signature },
        pcrs: Object.fromEntries([...quote.pcrs].map(([i, v]) => [String(i), v.toString('hex')])),
        challenge,
      },
    };
  }

  /** MAA's AzureGuest evidence (collectGuestEvidence) with this source's TPM and endpoints. */
  async guestEvidence(request: GuestEvidenceRequest): Promise<{ evidence: SnpEvidence; key: EphemeralTeeKey; runtimeData: Buffer }> {
    const tcgLog = this.#options.tcgLogPath;
    return collectGuestEvidence(this.#device, request, { ...this.#chain, ...(tcgLog ? { tcgLogPath: tcgLog } : {}) });
  }
}
