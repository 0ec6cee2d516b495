/** Wrapping key material to a TEE's RSA key in Key Vault's key_hsm format, and unwrapping it. */
export { DEFAULT_RELEASE_ENC, RELEASE_ENCS, type ReleaseEnc, isReleaseEnc, parseReleaseEnc } from './enc.js';
export { type KeyHsm, type TeePrivateKey, parseKeyHsm, unwrapKeyHsm, wrapForRelease } from './key-hsm.js';
export { type TeeJwk, checkTeeKey } from './tee-key.js';
