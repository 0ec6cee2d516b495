/**
 * zt4ai simulated Azure confidential VM: a vTPM with its paravisor (HCL report around a simulated SNP
 * report, runtime claims with the AK and EK, TPM2_Quote signed by the AK). Everything it makes is SIMULATED
 * and verifies only against simulated AMD roots.
 */
export { type SimVtpmCa, simulatedVtpmCa } from './ak-ca.js';
export { type BlobRequest, type SimulatedBlobOptions, type SimulatedBlobStorage, startSimulatedBlobStorage } from './blob.js';
export { type SimulatedGuestOptions, type SimulatedGuestRequest, simulatedGuestRequest } from './guest-request-writer.js';
export { type HclFields, encodeHclReport } from './hcl-writer.js';
export { type ImdsRequest, type SimulatedIdentity, type SimulatedImds, type SimulatedImdsOptions, type SimulatedThim, startSimulatedImds, thimFor } from './imds.js';
export { PCR_COUNT, SimulatedPcrBank, allPcrs } from './pcr-bank.js';
export { type RuntimeClaimsFields, type SimVmConfiguration, encodeRuntimeClaims, publicJwk } from './runtime-claims-writer.js';
export { type BootEvent, defaultBootEvents, writeTcgLog } from './tcg-log-writer.js';
export {
  AK_ATTRIBUTES,
  type CertifyAttestFields,
  EPHEMERAL_KEY_ATTRIBUTES,
  type PcrSelectionSpec,
  type QuoteAttestFields,
  type RsaPublicFields,
  encodeCertifyAttest,
  encodeQuoteAttest,
  encodeRsaTpm2bPublic,
  encodeRsaTpmtPublic,
  encodeRsassaSignature,
  rsaAkName,
  tpmName,
} from './tpm-writer.js';
export { SWTPM_INSTALL_HINT, SWTPM_NV_INDEX_MAX, SWTPM_TOOLS, type SwtpmVtpm, type SwtpmVtpmOptions, missingSwtpmTools, startSwtpmVtpm } from './swtpm.js';
export { VTPM_KEY_BITS, type VtpmKeys, fixtureVtpmKeys, generateVtpmKeys } from './vtpm-keys.js';
export { type SimulatedQuote, SimulatedVtpm, type SimulatedVtpmOptions } from './vtpm.js';
