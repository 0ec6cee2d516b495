import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunnerError } from '../../errors.js';
import { type PlaintextStore, tmpfsStore } from '../../startup/plaintext.js';
import type { Track } from '../../startup/secrets.js';

/** A GGUF file llama.cpp can open by path, and how to make it disappear. */
export interface StagedModelFile {
  readonly path: string;
  /** Unlinks the file (llama.cpp keeps its mapping) and wipes the plaintext it came from. */
  remove(): Promise<void>;
}

/**
 * llama.cpp loads only from a path. Plaintext already in tmpfs is used where it is; plaintext in memory is
 * written to a 0600 file in a fresh 0700 tmpfs directory first. Either way the file is unlinked right after
 * the load, and the in-memory copy zeroed, so the only plaintext left is llama.cpp's own mapping.
 */
export async function stageModelFile(store: PlaintextStore, file: string, track: Track): Promise<StagedModelFile> {
  if (store.kind === 'tmpfs' && store.dir !== null) {
    return { path: join(store.dir, ...file.split('/')), remove: () => store.wipe() };
  }
  const bytes = await store.read(file).catch((cause: unknown) => {
    throw new RunnerError('ERR_RUNNER_MODEL_LOAD', `the unsealed model has no readable ${file} (backend.file)`, { cause });
  });
  const staging = track(await tmpfsStore(null));
  const path = join(staging.dir!, 'model.gguf');
  try {
    await writeFile(path, bytes, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    await staging.wipe();
    throw new RunnerError('ERR_RUNNER_UNSEAL_IO', `cannot stage the model in ${staging.dir}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  } finally {
    await store.wipe();
  }
  return { path, remove: () => staging.wipe() };
}
