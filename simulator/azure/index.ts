/**
 * zt4ai simulated Azure confidential VM: a vTPM with its paravisor (HCL report around a simulated SNP
 * report, runtime claims with the AK and EK, TPM2_Quote signed by the AK). Everything it makes is SIMULATED
 * and verifies only against simulated AMD roots.
 */
export { type HclFields, encodeHclReport } from './hcl-writer.js';
export { PCR_COUNT, SimulatedPcrBank, allPcrs } from './pcr-bank.js';
export { type RuntimeClaimsFields, type SimVmConfiguration, encodeRuntimeClaims, publicJwk } from './runtime-claims-writer.js';
export { type PcrSelectionSpec, type QuoteAttestFields, encodeQuoteAttest, encodeRsassaSignature, rsaAkName } from './tpm-writer.js';
export { VTPM_KEY_BITS, type VtpmKeys, fixtureVtpmKeys, generateVtpmKeys } from './vtpm-keys.js';
export { type SimulatedQuote, SimulatedVtpm, type SimulatedVtpmOptions } from './vtpm.js';
