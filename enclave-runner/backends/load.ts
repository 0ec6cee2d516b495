import type { RunnerConfig } from '../config/types.js';
import { RunnerError } from '../errors.js';
import type { PlaintextStore } from '../startup/plaintext.js';
import type { InferenceBackend } from './backend.js';
import { NgramBackend } from './ngram/backend.js';
import { OpenAiProxyBackend } from './openai-proxy.js';

/**
 * Loads the configured backend from the unsealed model. The n-gram model is parsed into this process,
 * after which its plaintext is wiped at once; an upstream server reads the files from tmpfs itself, so
 * they stay there (0600, in a 0700 directory) until the runner stops.
 */
export async function loadBackend(config: RunnerConfig, store: PlaintextStore, signal?: AbortSignal): Promise<InferenceBackend> {
  const b = config.backend;
  if (b.kind === 'ngram') {
    try {
      return NgramBackend.load(await store.read(b.file).catch((cause: unknown) => {
        throw new RunnerError('ERR_RUNNER_MODEL_LOAD', `the unsealed model has no readable ${b.file} (backend.file)`, { cause });
      }));
    } finally {
      await store.wipe();
    }
  }
  return OpenAiProxyBackend.connect({ url: b.url, model: b.model, timeoutMs: b.timeoutMs }, signal);
}
