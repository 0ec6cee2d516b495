import type { SnpClaims } from '../snp/claims.js';
import type { RuntimeClaims } from './runtime-claims.js';
import type { TpmHashName } from './tpm-constants.js';
import type { SelectedPcr } from './tpm-pcrs.js';

/**
 * The `x-ms-compliance-status` zt4ai gives a verified HCL report. MAA says "azure-compliant-cvm" after
 * checks of its own that Microsoft does not publish (which paravisor builds it accepts); zt4ai cannot
 * reproduce them, so it does not claim them. This value means: the SNP report verified to a pinned AMD root,
 * was requested at VMPL 0, and binds the runtime claims. A policy written for MAA must accept it explicitly.
 */
export const ZT4AI_CVM_COMPLIANCE = 'zt4ai-verified-cvm';

/** `x-ms-isolation-tee`: the SNP report's claims as MAA nests them for a confidential VM (azure-protocols.md §1.6). */
export type IsolationTeeClaims = SnpClaims & {
  'x-ms-compliance-status': string;
  /** The HCL runtime claims (HCLAkPub, HCLEkPub, vm-configuration, user-data) exactly as embedded. */
  'x-ms-runtime': Readonly<Record<string, unknown>>;
};

/**
 * Claims of verified Azure confidential-VM evidence in the shape of MAA's AzureGuest token
 * (shared/vectors/azure/azureguest/sample_token_claims.json): `x-ms-attestation-type: "azurevm"`, the TEE
 * under `x-ms-isolation-tee`, the guest's own runtime data under top-level `x-ms-runtime`. Claims MAA
 * derives from the TCG event log (secureboot, x-ms-azurevm-is-windows, ...) are not made: zt4ai does not
 * parse event logs, and a claim it cannot back is left out rather than guessed.
 */
export interface AzureCvmClaims {
  'x-ms-attestation-type': 'azurevm';
  /** vm-configuration.vmUniqueId, as MAA reports it. */
  'x-ms-azurevm-vmid'?: string;
  /** The PCR indices a verified quote covers. */
  'x-ms-azurevm-attested-pcrs'?: number[];
  'x-ms-isolation-tee': IsolationTeeClaims;
  'x-ms-runtime'?: unknown;
  'x-zt4ai-evidence': 'azure-hcl';
  'x-zt4ai-simulated': boolean;
  'x-zt4ai-hcl-version': number;
  'x-zt4ai-runtime-claims-bound': true;
  /** RFC 7638 SHA-256 thumbprint (base64url) of HCLAkPub. */
  'x-zt4ai-hcl-ak-thumbprint': string;
  'x-zt4ai-tpm-quote-verified': boolean;
  /** Quoted PCR values by bank and index, lower-case hex (only with a verified quote). */
  'x-zt4ai-tpm-pcrs'?: Partial<Record<TpmHashName, Record<string, string>>>;
  'x-zt4ai-tpm-nonce'?: string;
}

export interface AzureClaimContext {
  readonly snp: SnpClaims;
  readonly runtime: RuntimeClaims;
  readonly hclVersion: number;
  readonly akThumbprint: string;
  /** Present only when a quote verified. */
  readonly quote?: { readonly nonce: Uint8Array; readonly pcrs: readonly SelectedPcr[] };
  /** The guest's own runtime data, already bound by the caller (for example through the quote nonce). */
  readonly runtimeData?: unknown;
}

export function buildAzureCvmClaims(ctx: AzureClaimContext): AzureCvmClaims {
  const claims: AzureCvmClaims = {
    'x-ms-attestation-type': 'azurevm',
    'x-ms-isolation-tee': { ...ctx.snp, 'x-ms-compliance-status': ZT4AI_CVM_COMPLIANCE, 'x-ms-runtime': ctx.runtime.json },
    'x-zt4ai-evidence': 'azure-hcl',
    'x-zt4ai-simulated': ctx.snp['x-zt4ai-simulated'],
    'x-zt4ai-hcl-version': ctx.hclVersion,
    'x-zt4ai-runtime-claims-bound': true,
    'x-zt4ai-hcl-ak-thumbprint': ctx.akThumbprint,
    'x-zt4ai-tpm-quote-verified': ctx.quote !== undefined,
  };
  const vmId = ctx.runtime.vmConfiguration?.vmUniqueId;
  if (vmId !== undefined) claims['x-ms-azurevm-vmid'] = vmId;
  if (ctx.runtimeData !== undefined) claims['x-ms-runtime'] = ctx.runtimeData;
  if (ctx.quote) {
    claims['x-ms-azurevm-attested-pcrs'] = [...new Set(ctx.quote.pcrs.map((p) => p.index))].sort((a, b) => a - b);
    claims['x-zt4ai-tpm-pcrs'] = pcrsByBank(ctx.quote.pcrs);
    claims['x-zt4ai-tpm-nonce'] = Buffer.from(ctx.quote.nonce).toString('hex');
  }
  return claims;
}

function pcrsByBank(pcrs: readonly SelectedPcr[]): Partial<Record<TpmHashName, Record<string, string>>> {
  const out: Partial<Record<TpmHashName, Record<string, string>>> = {};
  for (const p of pcrs) {
    const bank = out[p.hash] ?? {};
    bank[String(p.index)] = p.value.toString('hex');
    out[p.hash] = bank;
  }
  return out;
}
