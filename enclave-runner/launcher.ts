import { LLAMA_DEMO_FILE, makeLlamaDemoModel } from './backends/llama/demo-model.js';
import { configDigest } from './config/digest.js';
import { resolveRunnerConfig } from './config/load.js';
import { launchRunner } from './runner.js';

/**
 * The runner as a capability for the `zt4ai` CLI's demo (src/cli cannot import enclave-runner/; the process
 * entry hands it this object, whose shape src/cli declares structurally as RunnerLauncher).
 */
export const runnerLauncher = {
  /** The x-zt4ai-config digest a release policy pins for this configuration (JSON, paths relative to baseDir). */
  async configDigest(config: Record<string, unknown>, baseDir: string): Promise<string> {
    return configDigest(await resolveRunnerConfig(config, baseDir));
  },
  /** Starts a runner; resolves once it listens (poll /readyz, or read status()). */
  async launch(config: Record<string, unknown>, baseDir: string): Promise<{ url: string; status(): Promise<unknown>; stop(): Promise<void> }> {
    const runner = await launchRunner(await resolveRunnerConfig(config, baseDir));
    return { url: runner.url, status: async () => runner.status(), stop: () => runner.stop() };
  },
  /** Writes the demo model (the committed GGUF and its model card) into an empty directory; says how to serve it. */
  async makeDemoModel(outDir: string): Promise<{ backend: Record<string, unknown>; modelFile: string }> {
    await makeLlamaDemoModel(outDir);
    return { backend: { kind: 'llama', file: LLAMA_DEMO_FILE, threads: 1, contextSize: 256 }, modelFile: LLAMA_DEMO_FILE };
  },
};
