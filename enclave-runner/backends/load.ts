import { join } from 'node:path';
import type { RunnerConfig, UpstreamBackendConfig } from '../config/types.js';
import { RunnerError } from '../errors.js';
import type { PlaintextStore } from '../startup/plaintext.js';
import type { Track } from '../startup/secrets.js';
import type { InferenceBackend } from './backend.js';
import { LlamaBackend } from './llama/backend.js';
import { NgramBackend } from './ngram/backend.js';
import { launchUpstream } from './upstream/launch.js';
import { OpenAiProxyBackend } from './upstream/openai-proxy.js';

/**
 * Loads the configured backend from the unsealed model. In-process backends take the plaintext and it is
 * wiped at once (llama.cpp keeps only its own mapping). An upstream the runner starts loads the tmpfs file,
 * which is removed as soon as the upstream answers; one it is pointed at reads the files itself, so they
 * stay (0600, in a 0700 directory) until the runner stops.
 */
export async function loadBackend(config: RunnerConfig, store: PlaintextStore, track: Track, signal?: AbortSignal): Promise<InferenceBackend> {
  const b = config.backend;
  switch (b.kind) {
    case 'ngram':
      try {
        return NgramBackend.load(
          await store.read(b.file).catch((cause: unknown) => {
            throw new RunnerError('ERR_RUNNER_MODEL_LOAD', `the unsealed model has no readable ${b.file} (backend.file)`, { cause });
          }),
        );
      } finally {
        await store.wipe();
      }
    case 'llama':
      return LlamaBackend.load(b, store, track, signal);
    case 'openai-upstream':
      return b.command === null ? OpenAiProxyBackend.connect({ url: b.url!, model: b.model, timeoutMs: b.timeoutMs }, signal) : startUpstream(b, store, track, signal);
  }
}

async function startUpstream(b: UpstreamBackendConfig, store: PlaintextStore, track: Track, signal?: AbortSignal): Promise<InferenceBackend> {
  const command = b.command!;
  if (store.dir === null) throw new RunnerError('ERR_RUNNER_CONFIG', 'backend.command needs sealedModel.unsealTo "tmpfs"');
  const upstream = await launchUpstream(command, join(store.dir, ...command.file.split('/')), signal);
  const stopper = track({ wipe: () => upstream.stop(), wipeSync: () => upstream.killSync() });
  try {
    const proxy = await OpenAiProxyBackend.connect({ url: upstream.url, model: b.model, timeoutMs: b.timeoutMs }, signal, { pid: upstream.pid, stop: () => stopper.wipe() });
    // The upstream has loaded the model: the plaintext file is no longer needed.
    await store.wipe();
    return proxy;
  } catch (e) {
    await upstream.stop();
    throw e;
  }
}
