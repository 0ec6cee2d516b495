import type { LlamaGpu } from '../../config/types.js';
import { RunnerError } from '../../errors.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');

/**
 * node-llama-cpp, loaded only when the llama backend is configured: its native addon is large and the
 * other backends never need it. `build: 'never'`: on a missing prebuilt binary it would otherwise try
 * to download and compile llama.cpp, which a confidential VM must not do at start-up.
 */
export async function loadLlamaRuntime(gpu: LlamaGpu, threads: number): Promise<{ lib: NodeLlamaCpp; llama: Awaited<ReturnType<NodeLlamaCpp['getLlama']>> }> {
  let lib: NodeLlamaCpp;
  try {
    lib = await import('node-llama-cpp');
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_BACKEND', 'the llama backend needs the npm package node-llama-cpp (a dependency of zt4ai): run npm install', { cause });
  }
  try {
    const llama = await lib.getLlama({
      gpu: gpu === 'cpu' ? false : gpu,
      build: 'never',
      maxThreads: threads,
      progressLogs: false,
      logLevel: lib.LlamaLogLevel.error,
      // llama.cpp's own log lines would bypass pino: warnings and errors come back as exceptions instead.
      logger: () => {},
    });
    return { lib, llama };
  } catch (cause) {
    const how = gpu === 'cpu' || gpu === 'auto' ? 'the CPU prebuild @node-llama-cpp/linux-x64 (or your platform\'s) is missing: run npm install' : `the ${gpu} prebuild is not installed: see "GPU support" in the README`;
    throw new RunnerError('ERR_RUNNER_BACKEND', `llama.cpp could not start (${(cause as Error).message}); ${how}`, { cause });
  }
}
