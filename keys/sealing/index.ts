/** Sealed models: chunked AES-256-GCM containers bound to an OMS signature (docs/sealed-model-format.md). */
export { type ChunkContext, chunkAad, chunkNonce, openChunkInPlace, sealChunkInPlace } from './chunk-cipher.js';
export {
  type DataKeyUnwrapper,
  type DataKeyWrapper,
  directKeyUnwrapper,
  generateDataKey,
  type KeyReference,
  loadRsaPrivateKey,
  loadRsaPublicKey,
  rsaOaepUnwrapper,
  rsaOaepWrapper,
  rsaThumbprint,
} from './data-keys.js';
export * from './format.js';
export { encodeHeader, type HeaderFields, parsePrelude, preludeLengthFrom, type SealedHeader } from './header.js';
export { type ContainerInfo, inspectSealedModel, type SealedModelInfo } from './inspect.js';
export { commitTag, deriveFileKeys, type FileKeys, keyCheckValue } from './kdf.js';
export { decodeMeta, encodeMeta, type SealMeta, type WrapAlgorithm } from './meta.js';
export { authenticateHeader, type ExpectedBinding, readContainerHeader, SealedFileReader } from './open-file.js';
export type { Progress } from './run-options.js';
export { type SealedFileInfo, type SealFileOptions, sealFile } from './seal-file.js';
export { type SealedModel, type SealKey, type SealModelOptions, sealModel } from './seal-model.js';
export { loadSealedStatement, type SealedStatement } from './sealed-dir.js';
export { directorySink, discardSink, memorySink, type PlaintextSink, type SinkFactory, writableSink } from './sinks.js';
export { type UnsealedFileInfo, type UnsealFileOptions, unsealFile } from './unseal-file.js';
export { type UnsealedModel, type UnsealModelOptions, unsealModel } from './unseal-model.js';
export { ChunkPool, defaultThreads, type PoolOptions } from './worker-pool.js';
