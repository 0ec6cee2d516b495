/** Key Vault's release response: building it on the KRS, verifying and opening it in the runner. */
export { type BuildReleaseInput, type ReleasedKeyBundle, buildReleasePayload, buildReleaseResponse } from './build-response.js';
export { type CertificateOptions, type LeafOptions, type ReleaseCa, createReleaseCa } from './certificates.js';
export { type OpenReleaseOptions, type OpenedRelease, openReleaseResponse } from './open-response.js';
export { type ReleasePayload, parseReleasePayload } from './payload.js';
export { type ReleaseSigner, chainToPem, createReleaseSigner, loadReleaseCa, loadReleaseSigner, pemToChain, releaseCaToPem, releaseSignerToPem, x5tS256 } from './signer.js';
export { type VerifiedRelease, type VerifyReleaseOptions, verifyReleaseResponse } from './verify-response.js';
export type { ReleaseTrust } from './x5c-chain.js';
