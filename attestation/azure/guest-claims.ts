import type { SnpClaims } from '../snp/claims.js';
import { type IsolationTeeClaims, ZT4AI_CVM_COMPLIANCE } from './claims.js';
import type { AzureGuestRequest } from './guest-request.js';
import type { RuntimeClaims } from './runtime-claims.js';
import type { TpmPublic } from './tpm-public.js';
import type { SelectedPcr } from './tpm-pcrs.js';

/**
 * The ClientPayload entry the zt4ai runner puts its runtime data in. The runner also writes SHA-256 of it as the
 * vTPM's user data, which Azure's paravisor puts in the SNP-signed runtime claims (`user-data`).
 */
export const GUEST_RUNTIME_DATA_PAYLOAD = 'zt4ai-runtime-data';

/** The kid MAA gives the vTPM's ephemeral key in `x-ms-runtime.keys`, the key Key Vault wraps a release to. */
export const TPM_EPHEMERAL_KID = 'TpmEphemeralEncryptionKey';

/** The ephemeral key as MAA publishes it: the wrapping key of a Secure Key Release. */
export interface EphemeralKeyJwk {
  readonly kid: typeof TPM_EPHEMERAL_KID;
  readonly key_ops: readonly ['encrypt'];
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
}

/**
 * Claims of verified AzureGuest evidence, in the shape of MAA's confidential-VM token
 * (shared/vectors/azure/azureguest/sample_token_claims.json): the VM under `x-ms-azurevm-*`, the TEE under
 * `x-ms-isolation-tee`, the wrapping key and the client payload under top-level `x-ms-runtime`. Windows-only
 * claims MAA derives from boot events (ELAM, HVCI, test signing …) are not made: a claim zt4ai cannot back is
 * left out, not guessed. `secureboot` is present only when a replayed TCG log says so.
 */
export interface AzureGuestClaims {
  'x-ms-attestation-type': 'azurevm';
  'x-ms-azurevm-attestation-protocol-ver': string;
  'x-ms-azurevm-attested-pcrs': number[];
  'x-ms-azurevm-ostype': string;
  'x-ms-azurevm-osdistro': string;
  'x-ms-azurevm-osversion-major': number;
  'x-ms-azurevm-osversion-minor': number;
  'x-ms-azurevm-osbuild': string;
  'x-ms-azurevm-is-windows': boolean;
  'x-ms-azurevm-vmid'?: string;
  secureboot?: boolean;
  'x-ms-isolation-tee': IsolationTeeClaims;
  'x-ms-runtime': { keys: [EphemeralKeyJwk]; 'client-payload': Record<string, string> };
  'x-zt4ai-evidence': 'azure-guest';
  'x-zt4ai-simulated': boolean;
  'x-zt4ai-hcl-ak-thumbprint': string;
  'x-zt4ai-tpm-pcrs': { sha256: Record<string, string> };
  'x-zt4ai-ak-cert-verified': boolean;
  'x-zt4ai-tcg-log-verified': boolean;
  /**
   * The SNP-signed runtime claims' `user-data` is SHA-256(ClientPayload `zt4ai-runtime-data`) ‖ zeros: the runtime
   * data is then bound by the hardware report, not only by the answer being encrypted to this vTPM.
   */
  'x-zt4ai-runtime-data-bound': boolean;
}

export interface GuestClaimContext {
  readonly request: AzureGuestRequest;
  readonly snp: SnpClaims;
  readonly runtime: RuntimeClaims;
  readonly akThumbprint: string;
  readonly encryptionKey: TpmPublic;
  readonly pcrs: readonly SelectedPcr[];
  readonly akCertVerified: boolean;
  /** From the replayed TCG log; null when there was no log to replay. */
  readonly secureBoot: boolean | null;
  readonly logVerified: boolean;
  readonly runtimeDataBound: boolean;
}

export function buildAzureGuestClaims(ctx: GuestClaimContext): AzureGuestClaims {
  const { os } = ctx.request;
  const sha256 = ctx.pcrs.filter((p) => p.hash === 'sha256');
  const jwk = ctx.encryptionKey.key.export({ format: 'jwk' });
  const claims: AzureGuestClaims = {
    'x-ms-attestation-type': 'azurevm',
    'x-ms-azurevm-attestation-protocol-ver': ctx.request.protocolVersion,
    'x-ms-azurevm-attested-pcrs': sha256.map((p) => p.index).sort((a, b) => a - b),
    'x-ms-azurevm-ostype': os.type,
    'x-ms-azurevm-osdistro': os.distro,
    'x-ms-azurevm-osversion-major': os.versionMajor,
    'x-ms-azurevm-osversion-minor': os.versionMinor,
    'x-ms-azurevm-osbuild': os.build,
    'x-ms-azurevm-is-windows': os.type === 'Windows',
    'x-ms-isolation-tee': { ...ctx.snp, 'x-ms-compliance-status': ZT4AI_CVM_COMPLIANCE, 'x-ms-runtime': ctx.runtime.json },
    'x-ms-runtime': { keys: [{ kid: 'TpmEphemeralEncryptionKey', key_ops: ['encrypt'], kty: 'RSA', n: jwk.n!, e: jwk.e! }], 'client-payload': { ...ctx.request.clientPayload } },
    'x-zt4ai-evidence': 'azure-guest',
    'x-zt4ai-simulated': ctx.snp['x-zt4ai-simulated'],
    'x-zt4ai-hcl-ak-thumbprint': ctx.akThumbprint,
    'x-zt4ai-tpm-pcrs': { sha256: Object.fromEntries(sha256.map((p) => [String(p.index), p.value.toString('hex')])) },
    'x-zt4ai-ak-cert-verified': ctx.akCertVerified,
    'x-zt4ai-tcg-log-verified': ctx.logVerified,
    'x-zt4ai-runtime-data-bound': ctx.runtimeDataBound,
  };
  const vmId = ctx.runtime.vmConfiguration?.vmUniqueId;
  if (vmId !== undefined) claims['x-ms-azurevm-vmid'] = vmId;
  if (ctx.secureBoot !== null) claims.secureboot = ctx.secureBoot;
  return claims;
}
