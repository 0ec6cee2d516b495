/**
 * Azure confidential-VM evidence: the HCL report the paravisor stores in the vTPM (SNP report + runtime
 * claims), TPM 2.0 quotes and certifications signed by the attestation key those claims carry, TPM public
 * areas and PCR policies, and the TCG event log behind the PCRs. Pure code: no I/O.
 */
export { runtimeClaimsBound, runtimeClaimsDigest } from './binding.js';
export { type AzureClaimContext, type AzureCvmClaims, type IsolationTeeClaims, ZT4AI_CVM_COMPLIANCE, buildAzureCvmClaims } from './claims.js';
export { HASH_LENGTH, HCL, HCL_HASH_TYPES, HCL_OFF, HCL_REPORT_TYPES, HCL_REQUEST_TYPES, type HclHashName } from './hcl-layout.js';
export { type HclReport, looksLikeHclReport, parseHclReport } from './hcl.js';
export { type PcrSelectionInput, marshalPcrSelection, policyPcrDigest } from './policy-pcr.js';
export { type AkCertCheck, checkAkCertificate } from './ak-cert.js';
export { type AzureGuestClaims, type EphemeralKeyJwk, GUEST_RUNTIME_DATA_PAYLOAD, TPM_EPHEMERAL_KID, buildAzureGuestClaims } from './guest-claims.js';
export { type AzureGuestRequest, parseAttestationInfo } from './guest-request.js';
export { AZURE_GUEST_PCRS, type GuestTpmResult, verifyGuestTpm } from './guest-tpm.js';
export { quoteBindingNonce } from './quote-binding.js';
export { HCL_AK_KID, HCL_EK_KID, type RuntimeClaims, type RuntimeKey, type VmConfiguration, parseRuntimeClaims, readRuntimeClaimsJson } from './runtime-claims.js';
export { EFI_GLOBAL_VARIABLE_GUID, TCG_EV, TCG_LOG_LIMITS, type TcgEvent, type TcgLog, type TcgSpecId, type TcgSpecIdAlgorithm, type UefiVariableData, parseTcgLog, parseUefiVariableData, replayTcgLog, secureBootEnabled } from './tcg-log.js';
export { type TpmsAttestCertify, parseCertifyAttest } from './tpm-certify.js';
export { DIGEST_LENGTH, TPM_ALG, TPM_GENERATED_VALUE, TPM_HASHES, TPM_ST_ATTEST_CERTIFY, TPM_ST_ATTEST_QUOTE, type TpmHashName, hashFromAlg } from './tpm-constants.js';
export { MAX_RSA_BITS, MIN_RSA_BITS, type RsaPublicJwk, rsaJwkThumbprint, rsaPublicKeyFromJwk } from './tpm-keys.js';
export { type PcrValues, type SelectedPcr, parsePcrValues, pcrDigest, selectedPcrValues } from './tpm-pcrs.js';
export { type TpmPublic, type TpmRsaPublic, type TpmaObject, parseTpm2bPublic, parseTpmtPublic, tpmObjectName } from './tpm-public.js';
export { type QuoteCheckOptions, type TpmQuote, type TpmQuoteResult, verifyTpmQuote } from './tpm-quote.js';
export { type TpmSignature, decodeQuoteSignature, parseTpmtSignature, verifyTpmSignature } from './tpm-signature.js';
export { type TpmsAttestHeader, type TpmsAttestQuote, type TpmsClockInfo, type TpmsPcrSelection, bitmapToIndices, parseQuoteAttest } from './tpm-structures.js';
export { type AzureGuestVerdict, type AzureGuestVerifyOptions, verifyAzureGuest } from './verify-guest.js';
export { type HclVerdict, type HclVerifyOptions, type QuoteEvidence, verifyHclEvidence } from './verify-hcl.js';
