/** OpenSSF Model Signing (OMS) v1.0: manifests, statements, bundles; signing and verification. */
export { buildBundle, parseBundle, type ParsedBundle, type VerificationMaterial } from './bundle.js';
export { compareResources } from './compare.js';
export { pae } from './dsse.js';
export { keyHint, loadSigningKey, loadVerifyKey, publicKeyPem } from './ec-keys.js';
export { sha256File, sha256Ranges } from './file-hash.js';
export { buildManifest, listSortedModelFiles, type ManifestOptions, rootDigestOf } from './manifest.js';
export { isIgnored, listModelFiles, type ModelFile } from './model-walk.js';
export * from './oms-types.js';
export { compareCodePoints, comparePosixPaths } from './path-order.js';
export { defaultSignatureFile, type SignedModel, type SignOptions, signModel } from './sign.js';
export { isSafeRelativePath, type ParsedStatement, parseStatement, statementJson } from './statement.js';
export { type ModelVerdict, type VerifyOptions, type VerifyTrust, verifyModel } from './verify.js';
