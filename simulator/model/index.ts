/**
 * zt4ai's model files: a GGUF v3 writer, the llama GGUF layout, the character vocabulary shared by the demo
 * model (models/demo/) and tiny random-weight llama models for tests.
 */
export { GGML_TYPE, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_TYPE, GGUF_VERSION, type GgmlTensorType, type GgufFile, type GgufTensor, type GgufValue, GgufWriteError, encodeGguf, kv, writeGguf } from './gguf-writer.js';
export { float16BitsToFloat32, float32ToFloat16Bits } from './half.js';
export { type LlamaConfig, LlamaGgufError, type LlamaGgufInput, llamaGgufFile, llamaTensorShapes } from './llama-gguf.js';
export { type TinyLlamaOptions, type TinyLlamaSummary, writeTinyLlamaGguf } from './tiny-llama.js';
export { BOS_ID, EOS_ID, SPM_SPACE, TOKEN_TYPE, UNK_ID, type Vocabulary, characterVocabulary, encodeCharacters } from './vocab.js';
