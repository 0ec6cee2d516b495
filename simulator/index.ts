/**
 * zt4ai simulator: software SEV-SNP firmware with a simulated AMD root (ARK/ASK/ASVK per product, KDS-style
 * VCEKs and VLEKs) that makes evidence byte-for-byte in the real formats. Everything it signs is SIMULATED
 * and verifies only against trust anchors built with `trustAnchorsFromPem(pem, { simulated: true })`.
 */
export { type Endorsement, SimulatedAmdRoot, type SimulatedRootOptions, type SimulatedRoots, createSimulatedRoots, simulatedRootsPem } from './amd-root.js';
export { type SimEvidenceFiles, type SimEvidenceOptions, type SimEvidenceSummary, type SimProgress, writeSimEvidence } from './bundle.js';
export { CERT_TABLE_GUIDS, type CertTableEntry, decodeCertTable, encodeCertTable } from './cert-table.js';
export { caCommonName } from './ca-certificates.js';
export { chipIdLength } from './chip.js';
export { TSM_PROVIDER, type TsmEntryPaths, type TsmFulfilment, TsmResponder, type TsmResponderOptions, createTsmEntry, fulfilTsmRequest, tsmEntryPaths } from './configfs-tsm.js';
export { DEFAULT_CSP_ID, DEFAULT_MEASUREMENT, DEFAULT_POLICY, PRODUCT_PROFILES, type ProductProfile } from './defaults.js';
export type { SignerKind } from './endorsement-certificate.js';
export type { EndorsementKey } from './endorsement-key.js';
export { type ExtendedReport, type FirmwareTcbs, type GuestLaunchOptions, SimulatedFirmware, type SimulatedFirmwareOptions } from './firmware.js';
export { encodePlatformInfo } from './platform-info.js';
export { ALLOWED_KEY_BITS, type CaRole, DEFAULT_KEY_BITS, FIXTURE_KEY_BITS, type RootKeys, fixtureRootKeys, generateRootKeys } from './root-keys.js';
export { emsaPssEncode, signRsaPss } from './rsa-pss.js';
export type { SimSeed } from './seed.js';
export { type SimTextOptions, parseHexBytes, parseKeyBits, parsePolicy, parseReportVersion, parseSigner, parseSimEvidenceOptions, parseSimProduct, parseTcbSpec } from './options.js';
