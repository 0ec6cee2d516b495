/** Wrapping key material to a TEE's RSA key in Key Vault's key_hsm format, and unwrapping it. */
export { DEFAULT_RELEASE_ENC, RELEASE_ENCS, type ReleaseEnc, isReleaseEnc, parseReleaseEnc } from './enc.js';
export { type KeyHsm, type TeeDecryptor, type TeePrivateKey, parseKeyHsm, unwrapKeyHsm, unwrapKeyHsmWith, wrapForRelease } from './key-hsm.js';
export { type InnerKeyDecrypt, openMaaToken, sealMaaToken } from './maa-envelope.js';
export { type TeeJwk, checkTeeKey } from './tee-key.js';
