/**
 * zt4ai key-release service: an MAA-compatible SEV-SNP attest endpoint (RS256 attestation tokens, stateless
 * challenges, OIDC metadata, JWKS) and a Key Vault-compatible key API with Secure Key Release, administrator
 * auth and a hash-chained audit log. See README "Key-release service".
 */
export { type KrsAppDeps, buildApp } from './app.js';
export { type AttestOutcome, AttestService, type AttestServiceDeps } from './attest-service.js';
export type { AttestRequestBody, DataBlob } from './attest-request.js';
export { type KrsCompositionExtras, composeKrs } from './compose.js';
export { API_VERSIONS, type KrsConfig, type KrsConfigInput, isLoopback, loadKrsConfigFile, parseListen, resolveKrsConfig } from './config.js';
export { type CloudErrorBody, KRS_ERROR_CODES, KrsError, type KrsErrorCode, KrsStartupError } from './errors.js';
export { createLogger } from './logging.js';
export { type KrsMetrics, createMetrics } from './metrics.js';
export { type Challenge, ChallengeService, loadNonceKey } from './nonce.js';
export { CLAIMS_SUPPORTED } from './routes/metadata.js';
export { type KrsServer, startKrsServer } from './server.js';
export { type PublishedJwk, type RotateOptions, type RotateResult, type SigningKey, SigningKeyStore, kidOf, rotateSigningKey, toPublishedJwk } from './signing-keys.js';
