import { resolve } from 'node:path';
import { DEMO_GGUF } from '../../enclave-runner/backends/llama/demo-model.js';
import { REPO_ROOT } from './shared.js';

/**
 * The committed demo model run directly with node-llama-cpp (no runner, no HTTP, no guardians), configured as
 * the demo's runner is: 1 thread, context 256, plain completion. What the demo's runner answers must be this.
 */
export async function demoModelDirect(prompt: string, o: { maxTokens: number; seed: number; temperature: number }): Promise<string> {
  const { getLlama, LlamaCompletion } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logger: () => {} });
  const model = await llama.loadModel({ modelPath: resolve(REPO_ROOT, DEMO_GGUF) });
  const context = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    return await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion(prompt, o);
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
}

/** The demo's question and sampling (src/cli/commands/demo-runner.ts). */
export const DEMO_PROMPT = 'In the beginning God created';
export const DEMO_SAMPLING = { maxTokens: 120, seed: 0, temperature: 0.8 };
